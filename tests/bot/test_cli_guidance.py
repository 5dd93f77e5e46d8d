"""`pressgate guidance`: read the guidance, check a personal post (advice only, never a
failure and never a write), publish a version, record reading it, and see who has."""

from pathlib import Path

from sqlalchemy import text

from approvals.config import DEFAULT_GROUND_RULES
from tests.bot.conftest import Cli

DANA = "dana@example.org"  # strategy lead: manage on every account
ALICE = "alice@example.org"  # press officer


def audit_count(cli: Cli) -> int:
    engine = cli.engine
    try:
        with engine.connect() as conn:
            count: int = conn.execute(text("SELECT count(*) FROM auditentry")).scalar_one()
            return count
    finally:
        engine.dispose()


def test_show_before_publishing_gives_the_draft_and_says_so(cli: Cli) -> None:
    result = cli.ok("guidance", "show")
    assert "not yet published" in result.stdout
    for rule in DEFAULT_GROUND_RULES:
        assert rule in result.stdout

    shown = cli.json("guidance", "show")
    assert shown["published"] is False and shown["version"] is None
    assert "@DeptNews" in shown["text"]


def test_show_after_publishing_gives_the_published_version(cli: Cli) -> None:
    published = cli.json("guidance", "publish", "--as", DANA)
    shown = cli.json("guidance", "show")
    assert shown["published"] is True and shown["up_to_date"] is True
    assert shown["version"] == published["version"]
    assert shown["version"]["published_by"] == DANA
    assert "not yet published" not in cli.ok("guidance", "show").stdout


def test_check_prints_the_findings_and_still_exits_zero(cli: Cli) -> None:
    result = cli("guidance", "check", "Speaking for the department: mail me at jo@example.com")
    assert result.exit_code == 0
    assert "guidance.speaks_for_department" in result.stdout
    assert "'Speaking for the department'" in result.stdout
    assert "personal_data.email [40:54] 'jo@example.com'" in result.stdout
    assert "advisory" in result.stdout


def test_check_json_lists_each_finding_with_its_span(cli: Cli) -> None:
    report = cli.json("guidance", "check", "Love our logo")
    assert report == {
        "advisory": True,
        "stored": False,
        "findings": [
            {
                "rule": "guidance.logo",
                "severity": "warn",
                "start": 5,
                "end": 13,
                "excerpt": "our logo",
                "explanation": report["findings"][0]["explanation"],
            }
        ],
    }
    assert "logo" in report["findings"][0]["explanation"]


def test_check_of_an_ordinary_post_finds_nothing(cli: Cli) -> None:
    assert cli.json("guidance", "check", "What a match! 2-0 at full time.")["findings"] == []
    assert "Nothing found" in cli.ok("guidance", "check", "What a match!").stdout


def test_check_reads_a_file_or_standard_input(cli: Cli, tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text("I'm at the station now", encoding="utf-8")
    from_file = cli.json("guidance", "check", "--file", str(draft))
    assert [f["rule"] for f in from_file["findings"]] == ["personal_data.whereabouts"]

    piped = cli("guidance", "check", "--file", "-", "--json", input="I'm at the station now")
    assert piped.exit_code == 0
    assert '"personal_data.whereabouts"' in piped.stdout


def test_check_without_a_draft_is_bad_input(cli: Cli) -> None:
    result = cli("guidance", "check")
    assert result.exit_code == 2
    assert "give the draft" in result.stderr
    assert cli("guidance", "check", "x", "--file", "-").exit_code == 2


def test_check_changes_nothing(cli: Cli) -> None:
    before = audit_count(cli)
    cli.ok("guidance", "check", "Speaking for the department from home, jo@example.com")
    assert audit_count(cli) == before


def test_check_prints_a_draft_that_looks_like_markup_as_it_is(cli: Cli) -> None:
    result = cli.ok("guidance", "check", "[bold]our logo[/bold]")
    assert "'our logo'" in result.stdout


def test_publish_needs_the_manage_right(cli: Cli) -> None:
    refused = cli("guidance", "publish", "--as", ALICE)
    assert refused.exit_code == 1
    assert "alice@example.org may not manage" in refused.stderr
    assert cli.json("guidance", "show")["published"] is False


def test_publish_twice_publishes_once(cli: Cli) -> None:
    first = cli.json("guidance", "publish", "--as", DANA)
    assert first["changed"] is True and first["version"]["id"] == 1
    before = audit_count(cli)
    again = cli.json("guidance", "publish", "--as", DANA)
    assert again == {"changed": False, "version": first["version"]}
    assert "unchanged" in cli.ok("guidance", "publish", "--as", DANA).stdout
    assert audit_count(cli) == before


def test_read_before_publishing_is_refused(cli: Cli) -> None:
    result = cli("guidance", "read", "--as", ALICE)
    assert result.exit_code == 1
    assert "no guidance has been published" in result.stderr


def test_read_by_someone_outside_the_map_is_bad_input(cli: Cli) -> None:
    cli.ok("guidance", "publish", "--as", DANA)
    result = cli("guidance", "read", "--as", "mallory@example.org")
    assert result.exit_code == 2
    assert "not in the permission map" in result.stderr


def test_read_and_status_show_who_has_read_the_current_version(cli: Cli) -> None:
    before = cli.json("guidance", "status")
    assert before["version"] is None
    assert all(not p["read_current"] for p in before["people"])

    cli.ok("guidance", "publish", "--as", DANA)
    read = cli.json("guidance", "read", "--as", ALICE)
    assert read["email"] == ALICE and read["version_id"] == 1
    assert cli.json("guidance", "read", "--as", ALICE) == read

    status = cli.json("guidance", "status")
    assert status["version"]["id"] == 1
    readers = {p["email"]: p["read_current"] for p in status["people"]}
    assert readers[ALICE] is True
    assert readers[DANA] is False
    assert len(readers) == 8
    table = cli.ok("guidance", "status").stdout
    assert ALICE in table and "yes" in table
