"""Invariant 8: X tokens and app secrets never appear in logs, CLI output or the database
in clear — checked by connecting an account, publishing with DEBUG logging on, refreshing
an expired token, and then searching everything for the secrets."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.clock import FrozenClock
from approvals.db import session_scope
from approvals.map_store import get_person
from approvals.models import Post
from approvals.posts import PartInput, create_draft, current_revision, schedule, submit
from approvals.signoff.review import approve
from bot.dispatcher import Dispatcher
from bot.publishers import publisher_factory
from tests.bot.conftest import Cli
from tests.bot.publishing_world import x_settings
from tests.fakes.fake_x import FakeX
from tests.fakes.notifier import RecordingNotifier


@pytest.mark.usefixtures("debug_logging")
def test_tokens_never_appear_in_logs_output_or_the_database(
    cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeX() as fake:
        user = fake.add_user("DeptNews")
        cli.settings = x_settings(
            fake, database_url=cli.settings.database_url, config=cli.settings.config
        )
        tokens = {"access_token": user.bearer_token, "refresh_token": user.refresh_token}
        connected = cli(
            "accounts",
            "connect",
            "@DeptNews",
            "--as",
            "dana@example.org",
            "--kind",
            "oauth2",
            "--tokens-from",
            "-",
            "--json",
            input=json.dumps(tokens),
        )
        assert connected.exit_code == 0, connected.stderr
        assert json.loads(connected.stdout)["x_user_id"] == user.id
        old_tokens = set(tokens.values())
        fake.expire_access_token(user)

        engine = cli.engine
        clock = FrozenClock(cli.clock.now())
        with session_scope(engine) as session:
            alice = get_person(session, "alice@example.org")
            post = create_draft(
                session,
                actor=alice,
                account_handle="@DeptNews",
                parts=[PartInput("Secrets stay secret.")],
                now=clock.now(),
            )
            assert post.id is not None
            submit(session, actor=alice, post_id=post.id, now=clock.now())
            for email in ("bob@example.org", "carol@example.org"):
                approve(
                    session,
                    actor=get_person(session, email),
                    post_id=post.id,
                    revision_hash=_hash(session, post),
                    now=clock.now(),
                )
        dispatcher = Dispatcher(
            engine=engine,
            publishers=publisher_factory(cli.settings, engine, clock),
            clock=clock,
            worker="w",
            notifier=RecordingNotifier(),
        )
        _schedule_soon(engine, post.id, clock)
        clock.advance(timedelta(minutes=2))
        dispatcher.run_once()
        assert [p.text for p in fake.posts] == ["Secrets stay secret."]
        secrets = old_tokens | {user.bearer_token, user.refresh_token, fake.client_secret}
        secrets |= {fake.consumer_secret}
        shown = cli("map", "explain", "@DeptNews").stdout + cli("audit", "export").stdout

    assert "refreshed the OAuth 2.0 access token" in caplog.text, "the logs were captured"
    logged = caplog.text + connected.stdout + connected.stderr + shown
    stored = _dump(engine)
    engine.dispose()
    assert len(secrets) >= 5
    for secret in secrets:
        assert secret not in logged, "a secret was logged or printed"
        assert secret.encode() not in stored, "a secret is in the database in clear"


def _hash(session: Session, post: Post) -> str:
    return current_revision(session, post).content_hash


def _schedule_soon(engine: Engine, post_id: int, clock: FrozenClock) -> None:
    with session_scope(engine) as session:
        schedule(
            session,
            actor=get_person(session, "alice@example.org"),
            post_id=post_id,
            when=clock.now() + timedelta(minutes=1),
            now=clock.now(),
        )


def _dump(engine: Engine) -> bytes:
    """Every value of every table, as bytes, to search."""
    out = bytearray()
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    out += value if isinstance(value, bytes | memoryview) else str(value).encode()
                    out += b"\n"
    return bytes(out)
