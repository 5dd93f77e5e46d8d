"""`pressgate import FILE.csv` as an officer runs it: every row checked first; a bad file is
one line per problem naming the file, the line and the column, exit status 2 (1 when only a
rule refuses), and nothing saved; otherwise every row saved, or submitted, at once."""

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import Result

from tests.bot.conftest import Cli, assert_one_line_error, every_row
from tests.bulk_files import REMINDER, csv_bytes, local_day, png, row

ALICE = ("--as", "alice@example.org")
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An images folder with one picture, and a secret beside it that no CSV may reach."""
    images = tmp_path / "images"
    images.mkdir()
    (images / "office.png").write_bytes(png())
    (tmp_path / "secret.png").write_bytes(png(shade=7))
    return images


def write(tmp_path: Path, *rows: list[str], name: str = "posts.csv") -> str:
    path = tmp_path / name
    path.write_bytes(csv_bytes(list(rows)))
    return str(path)


def problem_lines(result: Result) -> list[str]:
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stdout + result.stderr
    assert all(line.startswith("error: ") for line in lines), lines
    return lines


GOOD = (
    row(text="Annual report today\n---\nRead it: https://www.gov.uk/report", campaign="report"),
    row(account="@DeptHelp", date="2027-01-20", time="10:00", **REMINDER),
    row(text="Our new office", image="office.png", alt_text="The office front"),
)


def test_import_saves_every_row_as_a_draft_and_shows_a_table(
    cli: Cli, tmp_path: Path, folder: Path
) -> None:
    path = write(tmp_path, *GOOD)
    result = cli.ok("import", path, *ALICE, "--images", str(folder))
    assert "2027-01-05 09:30 GMT" in result.stdout and "2027-01-20 10:00 GMT" in result.stdout
    assert f"saved 3 posts from {path} as drafts" in result.stdout
    queued = cli.json("queue", "--state", "draft")
    assert sorted(p["parts"][0]["text"][:14] for p in queued) == [
        "Annual report ",
        "Our new office",
        "Reminder: the ",
    ]


def test_import_submit_json_prints_one_document_with_each_rows_post(
    cli: Cli, tmp_path: Path, folder: Path
) -> None:
    path = write(tmp_path, *GOOD)
    result = cli.ok("import", path, *ALICE, "--images", str(folder), "--submit", "--json")
    document = json.loads(result.stdout)
    assert document["saved"] is True and document["submitted"] is True
    assert [r["line"] for r in document["rows"]] == [2, 5, 6]
    assert [r["state"] for r in document["rows"]] == ["submitted"] * 3
    assert document["rows"][2]["images"][0]["alt_text"] == "The office front"
    shown = cli.json("show", str(document["rows"][0]["post_id"]))
    assert shown["state"] == "submitted" and len(shown["parts"]) == 2


def test_dry_run_checks_every_row_and_saves_nothing(cli: Cli, tmp_path: Path, folder: Path) -> None:
    path = write(tmp_path, *GOOD)
    before = every_row(cli)
    document = cli.json("import", path, *ALICE, "--images", str(folder), "--dry-run")
    assert document["dry_run"] is True and document["saved"] is False
    assert [r["post_id"] for r in document["rows"]] == [None] * 3
    assert document["rows"][0]["scheduled_local"] == "2027-01-05 09:30 GMT"
    assert every_row(cli) == before
    table = cli.ok("import", path, *ALICE, "--images", str(folder), "--dry-run").stdout
    assert "nothing saved (--dry-run)" in table
    assert every_row(cli) == before


def test_a_bad_file_prints_one_line_per_problem_and_saves_nothing(
    cli: Cli, tmp_path: Path, folder: Path
) -> None:
    path = write(
        tmp_path,
        row(),
        row(account="@Nobody"),
        row(date="2027-03-28", time="01:30", image="../secret.png"),
        row(text="", template="deadline_reminder", vars="service=SA"),
    )
    before = every_row(cli)
    result = cli("import", path, *ALICE, "--images", str(folder))
    assert result.exit_code == 2
    assert problem_lines(result) == [
        f"error: {path}, line 3, column account: account @Nobody is not in the permission map",
        f"error: {path}, line 4, column time: 2027-03-28 01:30 does not exist in Europe/London: "
        "the clocks go forward then; choose a time outside the skipped hour",
        f"error: {path}, line 4, column image: image '../secret.png' is a path: give the file "
        "name only",
        f"error: {path}, line 5, column vars: template 'deadline_reminder': no value for "
        "deadline, url (it takes: service, deadline, url)",
    ]
    assert result.stdout == ""
    assert every_row(cli) == before


def test_a_file_that_is_not_csv_is_one_line_naming_it(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes("account,text\r\n@DeptNews,hi\r\n".encode("utf-16"))
    before = every_row(cli)
    assert_one_line_error(cli("import", str(path), *ALICE), 2, f"{path}: the file is not UTF-8")
    missing = tmp_path / "nowhere.csv"
    assert_one_line_error(cli("import", str(missing), *ALICE), 2, f"{missing}: cannot be read")
    no_folder = ("--images", str(tmp_path / "no-such-folder"))
    good = write(tmp_path, row())
    assert_one_line_error(cli("import", good, *ALICE, *no_folder), 2, "cannot list the images")
    assert every_row(cli) == before


def test_a_refusal_by_a_rule_exits_1_and_saves_nothing(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, row(), row(account="@DeptHelp"))
    before = every_row(cli)
    result = cli("import", path, "--as", "bob@example.org")
    assert result.exit_code == 1
    assert problem_lines(result) == [
        f"error: {path}, line 2, column account: bob@example.org may not draft on @DeptNews",
        f"error: {path}, line 3, column account: bob@example.org may not draft on @DeptHelp",
    ]
    assert every_row(cli) == before


def test_blocking_findings_refuse_submit_but_not_drafts(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, row(), row(text="Ring 07700 900123 for details"))
    before = every_row(cli)
    refused = cli("import", path, *ALICE, "--submit")
    assert refused.exit_code == 1
    (line,) = problem_lines(refused)
    assert line.startswith(f"error: {path}, line 3, column text: blocks submitting")
    assert "personal_data.uk_phone" in line
    assert every_row(cli) == before
    drafted = cli.json("import", path, *ALICE)
    assert [r["state"] for r in drafted["rows"]] == ["draft", "draft"]
    assert [f["rule"] for f in drafted["rows"][1]["findings"]] == ["personal_data.uk_phone"]


@SQLITE_ONLY
def test_a_long_file_shows_its_progress_on_a_terminal(cli: Cli, tmp_path: Path) -> None:
    """Run for real with standard error on a pseudo-terminal, as a person at a keyboard has."""
    day = local_day(datetime.now(UTC), 30)
    path = write(tmp_path, *[row(date=day, text=f"Post {n}") for n in range(60)])
    main, child = pty.openpty()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PRESSGATE_DATABASE_URL": cli.settings.database_url,
        "PRESSGATE_CONFIG": str(cli.settings.config),
    }
    script = Path(sys.executable).parent / "pressgate"
    finished = subprocess.run(
        [str(script), "import", path, *ALICE, "--dry-run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=child,
        timeout=60,
        check=False,
    )
    os.close(child)
    shown = os.read(main, 65536).decode()
    os.close(main)
    assert finished.returncode == 0, shown
    assert "checked 60/60 rows" in shown and "checked 10/60 rows" in shown
    assert b"checked 60 rows" in finished.stdout, "the table and the outcome go to stdout"
