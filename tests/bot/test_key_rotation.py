"""`pressgate secrets rotate`: stored X tokens move to the new secret key in one audited
transaction, the audit log (keyed from the secret key) still verifies across the rotation,
and publishing goes on under the new key."""

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.db import make_engine
from approvals.delivery.credentials import cipher, tokens_of
from approvals.errors import Refused
from approvals.map_store import get_account
from approvals.models import AuditEntry, Credential, PostState
from approvals.records.audit_keys import AuditKeyring
from bot.dispatcher import Dispatcher
from bot.publishers import publisher_factory
from tests.bot.conftest import Cli, assert_one_line_error, make_cli
from tests.bot.publishing_world import SECRET, connect_account
from tests.fakes.fake_x import FakeX
from tests.fakes.notifier import RecordingNotifier

NEW = "Rotated-key-9876543210-ZYXWVUTSRQ-ponmlkjihg"
LEAD = "dana@example.org"


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as running:
        yield running


def _cli(database_url: str, tmp_path: Path, fake: FakeX, secret: str, **more: object) -> Cli:
    """The audit key derived from the secret key (no PRESSGATE_AUDIT_KEY), as by default."""
    return make_cli(
        database_url,
        tmp_path,
        secret_key=secret,
        audit_key=None,
        x_api_url=fake.base_url,
        x_consumer_key=fake.consumer_key,
        x_consumer_secret=fake.consumer_secret,
        **more,
    )


@pytest.fixture
def before(database_url: str, tmp_path: Path, fake: FakeX) -> Cli:
    """An office whose two corporate accounts were connected under the old key."""
    old = _cli(database_url, tmp_path, fake, SECRET)
    old.ok("init")
    engine = _engine(old)
    for name in ("DeptNews", "DeptHelp"):
        connect_account(engine, old.clock, f"@{name}", fake.add_user(name))
    engine.dispose()
    return old


def _engine(cli: Cli) -> Engine:
    return make_engine(cli.settings.database_url, audit_keys=cli.settings.audit_keyring())


def _ciphertexts(cli: Cli) -> list[bytes]:
    engine = _engine(cli)
    with Session(engine) as session:
        rows = session.exec(select(Credential).order_by(col(Credential.id))).all()
        found = [r.ciphertext for r in rows]
    engine.dispose()
    return found


def test_rotation_moves_tokens_to_the_new_key_and_the_audit_log_still_verifies(
    before: Cli, database_url: str, tmp_path: Path, fake: FakeX
) -> None:
    after = _cli(database_url, tmp_path, fake, NEW, previous_secret_keys=[SECRET])
    done = after.json("secrets", "rotate", "--as", LEAD)
    assert sorted(done["rotated"]) == ["@DeptHelp", "@DeptNews"] and done["already"] == []

    engine = _engine(after)
    with Session(engine) as session:
        account = get_account(session, "@DeptHelp")
        assert tokens_of(session, account, NEW) is not None
        with pytest.raises(Refused):
            tokens_of(session, account, SECRET)
        [entry] = session.exec(
            select(AuditEntry).where(col(AuditEntry.action) == "secrets.rotated")
        ).all()
        assert entry.actor == LEAD and NEW not in entry.details and SECRET not in entry.details
    verified = after.json("audit", "verify")
    assert verified["ok"] and len(verified["key_ids"]) == 2  # the old key's entries, the new's

    # Without the old key on the keyring the entries it sealed cannot be checked: they name it.
    forgetful = _cli(database_url, tmp_path, fake, NEW)
    result = forgetful("audit", "verify")
    assert result.exit_code == 1 and "not configured here" in result.stderr

    # Publishing goes on under the new key.
    post = after.json(
        "draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", "After rotation",
        "--at", (after.clock.now() + timedelta(minutes=5)).isoformat(), "--submit",
    )  # fmt: skip
    after.ok("approve", str(post["id"]), "--as", "bob@example.org")
    after.clock.advance(timedelta(minutes=6))
    dispatcher = Dispatcher(
        engine=engine,
        publishers=publisher_factory(after.settings, engine, after.clock),
        clock=after.clock,
        worker="w1",
        notifier=RecordingNotifier(),
    )
    assert dispatcher.run_once() == 1
    assert after.json("show", str(post["id"]))["state"] == PostState.PUBLISHED.value
    assert fake.posts_by_text() == {"After rotation": 1}
    engine.dispose()
    assert after.json("audit", "verify")["ok"]

    again = after.json("secrets", "rotate", "--as", LEAD)  # run twice: nothing left to do
    assert again["rotated"] == [] and sorted(again["already"]) == ["@DeptHelp", "@DeptNews"]


def test_a_token_no_given_key_opens_refuses_the_whole_rotation(
    before: Cli, database_url: str, tmp_path: Path, fake: FakeX
) -> None:
    engine = _engine(before)
    with Session(engine) as session:  # one account's tokens under a key nobody has now
        row = session.exec(select(Credential).order_by(col(Credential.id))).first()
        assert row is not None
        row.ciphertext = cipher("Lost-key-0123456789-abcdefghijklmnopq").encrypt(b"{}")
        session.add(row)
        session.commit()
    engine.dispose()
    stored = _ciphertexts(before)

    after = _cli(database_url, tmp_path, fake, NEW, previous_secret_keys=[SECRET])
    assert_one_line_error(
        after("secrets", "rotate", "--as", LEAD), 1, "open with none of the previous keys"
    )
    assert _ciphertexts(after) == stored, "nothing changed, not even the accounts that open"


def test_rotation_needs_the_old_keys_and_someone_who_manages_every_account(
    before: Cli, database_url: str, tmp_path: Path, fake: FakeX
) -> None:
    no_old = _cli(database_url, tmp_path, fake, NEW)
    assert_one_line_error(no_old("secrets", "rotate", "--as", LEAD), 2, "PREVIOUS_SECRET_KEYS")
    after = _cli(database_url, tmp_path, fake, NEW, previous_secret_keys=[SECRET])
    assert_one_line_error(
        after("secrets", "rotate", "--as", "alice@example.org"), 1, "may not manage"
    )
    assert json.loads(after.ok("audit", "verify", "--json").stdout)["ok"]


def test_a_keyring_holds_previous_keys_only_to_verify() -> None:
    ring = AuditKeyring.derive(NEW, older=[SECRET])
    assert ring.current.key_id == AuditKeyring.derive(NEW).current.key_id
    assert ring.by_id(AuditKeyring.derive(SECRET).current.key_id) is not None
