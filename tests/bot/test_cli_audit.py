"""`pressgate audit verify` and `audit anchor` against someone who holds the database but not
the audit key, on SQLite and PostgreSQL, run as a user types them.

On PostgreSQL the audit tables' triggers refuse the tampering outright; the attacker here
has the tables' owner rights and switches them off first (tests/bot/attacker.py), which is
why the README says to run the application as a role that does not own the tables.
"""

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from approvals.db import make_engine
from approvals.migrate import upgrade
from approvals.models import AuditEntry, AuditHead
from approvals.records import audit
from approvals.records.audit_keys import AuditKeyring
from bot.cli.main import app as cli_app
from tests.bot.attacker import (
    entries,
    head,
    recompute_without_the_key,
    tampering,
    truncate_and_wind_back_head,
)
from tests.bot.conftest import Cli, every_row, make_cli
from tests.conftest import NOW
from tests.factories import AUDIT_KEY

KEY_ID = AuditKeyring.derive(AUDIT_KEY).current.key_id


def _busy(cli: Cli, posts: int = 3) -> int:
    """Some history: drafts submitted and approved. Returns the head's seq."""
    for n in range(posts):
        post = cli.json(
            "draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", f"Post {n}"
        )
        cli.ok("submit", str(post["id"]), "--as", "alice@example.org")
    return int(cli.json("audit", "verify")["checked"])


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def test_verify_reports_every_entry_sealed_under_the_configured_key(cli: Cli) -> None:
    total = _busy(cli)
    verdict = cli.json("audit", "verify")
    assert verdict == {
        "ok": True,
        "checked": total,
        "first_bad_entry": None,
        "problem": None,
        "unkeyed_entries": 0,
        "rekeyed_at": None,
        "key_ids": [KEY_ID],
        "anchors_checked": 0,
    }
    assert cli.ok("audit", "verify").stdout.strip() == (
        f"audit log intact: {total} entries verified, sealed with key {KEY_ID}"
    )


def test_the_audit_key_is_derived_from_the_secret_key_unless_set(
    database_url: str, tmp_path: Path
) -> None:
    """PRESSGATE_AUDIT_KEY=S seals as PRESSGATE_SECRET_KEY=S alone would. A process with
    another key cannot verify the log (it is told which key it needs) and records nothing."""
    secret = "the-installation-secret-key-0123456789abcdef"
    by_secret = make_cli(database_url, tmp_path, secret_key=secret, audit_key=None)
    by_secret.ok("init")
    derived = AuditKeyring.derive(secret).current.key_id
    assert derived != KEY_ID
    assert by_secret.json("audit", "verify")["key_ids"] == [derived]
    same = make_cli(database_url, tmp_path, secret_key="s" * 40, audit_key=secret)
    assert same.json("audit", "verify")["ok"] is True

    other = make_cli(database_url, tmp_path, secret_key="another-secret-0123456789abcdef-xyz")
    other.settings = other.settings.model_copy(update={"audit_key": None})
    before = every_row(other)
    refused = other("audit", "verify")
    assert refused.exit_code == 1
    assert _one_error_line(refused.stderr) == (
        f"error: audit log broken at entry 1: entry 1 is sealed with key {derived}, which is "
        "not configured here (set PRESSGATE_AUDIT_KEY, or PRESSGATE_SECRET_KEY, to the one "
        "that wrote it) (0 entries before it verified)"
    )
    drafted = other("draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", "Hi")
    assert drafted.exit_code == 1
    assert "nothing was recorded" in _one_error_line(drafted.stderr)
    assert every_row(other) == before


def test_a_short_audit_key_is_refused_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["audit", "verify"],
        env={
            "PRESSGATE_AUDIT_KEY": "too-short",
            "PRESSGATE_DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
        },
    )
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        "error: PRESSGATE_AUDIT_KEY: Value error, needs at least 32 characters (or leave it unset)"
    )
    assert not (tmp_path / "p.db").exists()


def test_deleting_the_last_entries_and_rewriting_the_head_fails_verify_naming_where(
    cli: Cli,
) -> None:
    total = _busy(cli)
    keep = total - 3
    with tampering(cli.settings.database_url) as conn:
        old_seal = head(conn)["seal"]
        truncate_and_wind_back_head(conn, keep, seal=old_seal)

    result = cli("audit", "verify")

    assert result.exit_code == 1
    assert _one_error_line(result.stderr) == (
        f"error: audit log broken at entry {keep}: the audit head row names entry {keep} but its "
        f"seal does not match: it was rewritten outside pressgate (entries after {keep} may "
        f"have been removed) ({keep} entries before it verified)"
    )
    assert json.loads(cli("audit", "verify", "--json").stdout)["first_bad_entry"] == keep


@pytest.mark.parametrize("start", [1, 3])
def test_a_chain_recomputed_without_the_key_fails_verify_naming_where(cli: Cli, start: int) -> None:
    total = _busy(cli)
    with tampering(cli.settings.database_url) as conn:
        recompute_without_the_key(conn, start=start, edit={"actor": "mallory@example.org"})

    result = cli("audit", "verify")

    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    if start == 1:
        assert line == (
            f"error: audit log broken at entry 1: entries 1-{total} carry no key and no "
            "re-keying entry follows them: the chain was recomputed without the key, or this "
            "log was never re-keyed (`pressgate db upgrade` re-keys it) "
            f"({total} entries before it verified)"
        )
    else:
        assert line == (
            f"error: audit log broken at entry {start}: entry {start} has no key although the "
            "log had been keyed by then: it was rewritten without the key "
            f"({start - 1} entries before it verified)"
        )


def test_after_the_head_was_wound_back_every_change_is_refused_and_nothing_recorded(
    cli: Cli,
) -> None:
    """Otherwise the next entry would seal over the removal."""
    total = _busy(cli)
    with tampering(cli.settings.database_url) as conn:
        truncate_and_wind_back_head(conn, total - 2, seal="f" * 64)
    before = every_row(cli)

    result = cli("draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", "More")

    assert result.exit_code == 1
    assert _one_error_line(result.stderr) == (
        f"error: the audit head row names entry {total - 2} but its seal does not match: it "
        f"was rewritten outside pressgate (entries after {total - 2} may have been removed); "
        "nothing was recorded: run `pressgate audit verify` and investigate"
    )
    assert every_row(cli) == before


def _anchor(cli: Cli, path: Path) -> dict[str, object]:
    result: dict[str, object] = cli.json("audit", "anchor", "--out", str(path))
    return result


def test_audit_anchor_appends_the_head_to_a_file_only_its_owner_can_read(
    cli: Cli, tmp_path: Path
) -> None:
    total = _busy(cli, posts=1)
    first = cli.json("audit", "anchor")
    default = cli.settings.audit_anchor_file
    with tampering(cli.settings.database_url) as conn:
        expected = head(conn)
    assert first == {
        "seq": total,
        "hash": expected["hash"],
        "at": cli.clock.now().isoformat(),
        "key_id": KEY_ID,
        "file": str(default),
    }
    assert stat.S_IMODE(os.stat(default).st_mode) == 0o600
    _busy(cli, posts=1)
    text_out = cli.ok("audit", "anchor").stdout
    assert text_out.startswith(f"anchored entry {total + 2} (hash ")
    lines = [json.loads(line) for line in default.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [total, total + 2]

    elsewhere = tmp_path / "off-site" / "anchors.jsonl"
    assert _anchor(cli, elsewhere)["file"] == str(elsewhere)
    assert len(elsewhere.read_text().splitlines()) == 1


def test_verify_with_anchors_says_how_many_hold(cli: Cli, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    _busy(cli, posts=1)
    _anchor(cli, anchors)
    total = _busy(cli, posts=1)
    _anchor(cli, anchors)

    out = cli.ok("audit", "verify", "--anchor", str(anchors)).stdout.strip()

    assert out == (
        f"audit log intact: {total} entries verified, sealed with key {KEY_ID}; 2 anchors in "
        f"{anchors} hold"
    )
    assert cli.json("audit", "verify", "--anchor", str(anchors))["anchors_checked"] == 2


def _put_back_after_an_anchor(cli: Cli, anchors: Path, *, later_posts: int) -> tuple[int, int]:
    """History, more history anchored, then the log put back to before the latter with the
    head row as it was then (genuinely sealed). Returns the kept and the anchored seq."""
    kept = _busy(cli, posts=1)
    with tampering(cli.settings.database_url) as conn:
        old_head = head(conn)
    total = _busy(cli, posts=later_posts)
    _anchor(cli, anchors)
    with tampering(cli.settings.database_url) as conn:
        truncate_and_wind_back_head(conn, kept, seal=old_head["seal"])
    return kept, total


def test_removing_anchored_entries_and_replaying_an_old_head_is_caught_by_the_anchor(
    cli: Cli, tmp_path: Path
) -> None:
    """The whole old head row, genuinely sealed, copied back: only an anchor tells."""
    anchors = tmp_path / "anchors.jsonl"
    kept, total = _put_back_after_an_anchor(cli, anchors, later_posts=2)

    assert cli("audit", "verify").exit_code == 0  # indistinguishable from the earlier log
    result = cli("audit", "verify", "--anchor", str(anchors))

    assert result.exit_code == 1
    assert _one_error_line(result.stderr) == (
        f"error: audit log broken at entry {kept + 1}: {anchors}:1 anchors entry {total} but "
        f"the log ends at entry {kept}: entries {kept + 1}-{total} (at least) were removed "
        f"({kept} entries before it verified)"
    )


def test_a_log_put_back_to_an_earlier_copy_and_continued_is_caught_by_the_anchor(
    cli: Cli, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    _, total = _put_back_after_an_anchor(cli, anchors, later_posts=1)
    _busy(cli, posts=1)  # as many entries again, other ones

    result = cli("audit", "verify", "--anchor", str(anchors))

    assert result.exit_code == 1
    assert _one_error_line(result.stderr) == (
        f"error: audit log broken at entry {total}: entry {total} is not the entry "
        f"{anchors}:1 anchors (its hash differs): the log was rewritten from there on, or put "
        f"back to an earlier copy and continued ({total - 1} entries before it verified)"
    )


def test_verify_refuses_an_anchor_file_it_cannot_use(cli: Cli, tmp_path: Path) -> None:
    before = every_row(cli)
    missing = tmp_path / "nowhere.jsonl"
    result = cli("audit", "verify", "--anchor", str(missing))
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == f"error: {missing}: no such anchor file"

    bad = tmp_path / "bad.jsonl"
    _anchor(cli, bad)
    with bad.open("a") as out:
        out.write('{"seq": "three"}\n')
    result = cli("audit", "verify", "--anchor", str(bad))
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"error: {bad}:2: not an anchor (a JSON object with seq, hash, at, key_id)"
    )
    assert every_row(cli) == before


def test_no_anchor_is_taken_of_a_head_that_does_not_hold(cli: Cli, tmp_path: Path) -> None:
    total = _busy(cli, posts=1)
    with tampering(cli.settings.database_url) as conn:
        truncate_and_wind_back_head(conn, total - 1, seal=None)
    target = tmp_path / "anchors.jsonl"

    result = cli("audit", "anchor", "--out", str(target))

    assert result.exit_code == 1
    assert _one_error_line(result.stderr) == (
        f"error: the audit head row names entry {total - 1} but its seal does not match: it was "
        f"rewritten outside pressgate (entries after {total - 1} may have been removed); no "
        "anchor taken: run `pressgate audit verify`"
    )
    assert not target.exists()


def test_an_anchor_that_cannot_be_written_fails_with_one_line(cli: Cli, tmp_path: Path) -> None:
    result = cli("audit", "anchor", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"error: {tmp_path}: the anchor could not be written (Is a directory)"
    )


def test_the_log_records_only_entries_never_the_key(cli: Cli) -> None:
    _busy(cli, posts=1)
    with tampering(cli.settings.database_url) as conn:
        stored = repr(entries(conn)) + repr(head(conn))
    assert AUDIT_KEY not in stored
    assert AuditKeyring.derive(AUDIT_KEY).current.secret.hex() not in stored


def _legacy_database(database_url: str, entries: int) -> None:
    """A database as pressgate left it before the chain was keyed (schema 0003), holding
    entries written the way that code wrote them: plain SHA-256, no key id."""
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0003")
        prev, rows = audit.GENESIS, []
        for seq in range(1, entries + 1):
            row = {
                "seq": seq,
                "at": NOW + timedelta(minutes=seq),
                "actor": "system",
                "action": "legacy.event",
                "subject": f"thing:{seq}",
                "details": audit.canonical_json({"n": seq}),
            }
            digest = audit.entry_hash(**row, prev=prev)
            rows.append({**row, "prev_hash": prev, "hash": digest})
            prev = digest
        entry_table, head_table = AuditEntry.__table__, AuditHead.__table__  # type: ignore[attr-defined]
        with engine.begin() as conn:
            conn.execute(entry_table.insert(), rows)
            conn.execute(head_table.update().values(seq=entries, hash=prev))
    finally:
        engine.dispose()


def test_db_upgrade_rekeys_a_log_written_before_the_chain_was_keyed(
    database_url: str, tmp_path: Path
) -> None:
    _legacy_database(database_url, entries=3)
    cli = make_cli(database_url, tmp_path)

    upgraded = cli.ok("db", "upgrade")

    assert upgraded.stderr.strip() == (
        "audit log re-keyed at entry 4: entries 1-3 stay checked by their plain hashes; take "
        "an anchor now (`pressgate audit anchor`)"
    )
    verdict = cli.json("audit", "verify")
    assert (verdict["ok"], verdict["checked"], verdict["unkeyed_entries"]) == (True, 4, 3)
    assert verdict["rekeyed_at"] == 4
    assert cli.ok("audit", "verify").stdout.strip() == (
        "audit log intact: 4 entries verified (1-3 by plain SHA-256, written before the log "
        f"was re-keyed at entry 4; the rest by HMAC), sealed with key {KEY_ID}"
    )
    exported = [json.loads(line) for line in cli.ok("audit", "export").stdout.splitlines()]
    assert exported[3]["action"] == "audit.rekeyed"
    assert exported[3]["details"] == {"legacy_last_seq": 3, "legacy_last_hash": exported[2]["hash"]}
    assert [e["key_id"] for e in exported] == [None, None, None, KEY_ID]

    assert cli.ok("db", "upgrade").stderr == ""  # once only
    cli.ok("init")
    assert cli.json("audit", "verify")["checked"] == 5


def test_a_legacy_entry_rewritten_after_the_rekeying_fails_verify(
    database_url: str, tmp_path: Path
) -> None:
    _legacy_database(database_url, entries=3)
    cli = make_cli(database_url, tmp_path)
    cli.ok("init")
    with tampering(database_url) as conn:
        recompute_without_the_key(conn, start=2, edit={"actor": "mallory@example.org"})

    result = cli("audit", "verify")

    assert result.exit_code == 1
    assert _one_error_line(result.stderr) == (
        "error: audit log broken at entry 4: entry 4 has no key although the log had been "
        "keyed by then: it was rewritten without the key (3 entries before it verified)"
    )
