"""`pressgate backup` and `restore`: a consistent copy taken while pressgate runs, put back
whole, the audit log verified after it and the restore recorded in it."""

import os
from pathlib import Path

import pytest

from bot.backup import _pg
from tests.bot.conftest import Cli, assert_one_line_error


def _draft(cli: Cli, text: str) -> int:
    post = cli.json("draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", text)
    return int(post["id"])


def _exists(cli: Cli, post_id: int) -> bool:
    return cli("show", str(post_id), "--json").exit_code == 0


def test_a_restore_brings_back_the_database_as_backed_up_and_the_log_verifies(
    cli: Cli, tmp_path: Path
) -> None:
    before = _draft(cli, "Before the back-up")
    target = tmp_path / "backups" / "pressgate.backup"
    target.parent.mkdir()
    assert "back-up written" in cli.ok("backup", str(target)).stdout
    assert target.stat().st_mode & 0o777 == 0o600
    assert not [p for p in target.parent.iterdir() if p != target], "no temporary file left"

    after = _draft(cli, "After the back-up")
    assert _exists(cli, after)

    restored = cli.ok("restore", str(target), "--replace").stdout
    assert "audit log intact" in restored and "restore recorded" in restored
    assert _exists(cli, before) and not _exists(cli, after)
    assert cli.json("audit", "verify")["ok"]
    log = cli.ok("audit", "export").stdout
    assert log.count('"database.restored"') == 1


def test_restore_asks_for_replace_and_refuses_a_file_that_is_no_backup(
    cli: Cli, tmp_path: Path
) -> None:
    kept = _draft(cli, "Still here")
    backup = tmp_path / "real.backup"
    cli.ok("backup", str(backup))
    assert_one_line_error(cli("restore", str(backup)), 2, "--replace")

    junk = tmp_path / "junk.backup"
    junk.write_bytes(os.urandom(4096))
    result = cli("restore", str(junk), "--replace")
    assert result.exit_code in (1, 2) and "Traceback" not in result.stderr
    assert _exists(cli, kept), "nothing changed"
    assert cli.json("audit", "verify")["ok"]


def test_a_backup_into_a_missing_directory_is_refused(cli: Cli, tmp_path: Path) -> None:
    assert_one_line_error(
        cli("backup", str(tmp_path / "no" / "such" / "dir.backup")), 2, "existing directory"
    )


@pytest.mark.postgres
def test_pg_tools_never_see_the_password_on_their_command_line(tmp_path: Path) -> None:
    with pytest.raises(Exception) as refused:
        _pg("pg_dump", "postgresql+psycopg://nobody:hunter2-secret@127.0.0.1:1/none", "--help0")
    assert "hunter2-secret" not in str(refused.value)
