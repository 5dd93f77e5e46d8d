"""`pressgate check`: the weighted length and findings of a text, from the map in force;
exit status 1 only when a finding blocks."""

import json
import os
from pathlib import Path

import pytest

from tests.bot.conftest import Cli, make_cli, pressgate_process


def test_a_clean_post_passes_with_its_weighted_length(cli: Cli) -> None:
    result = cli.ok("check", "Applications open today: https://www.gov.uk/grants")
    assert "48/280 characters" in result.stdout
    assert "no findings" in result.stdout


def test_a_blocking_finding_exits_1_and_names_rule_span_and_reason(cli: Cli) -> None:
    result = cli("check", "Results guaranteed! Email jo@example.org")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any("block terms.blocked at 8-18 'guaranteed'" in line for line in lines)
    assert any("block personal_data.email" in line for line in lines)


def test_warnings_alone_do_not_fail(cli: Cli) -> None:
    result = cli("check", "An exclusive look at the new office #one #two #three")
    assert result.exit_code == 0
    assert "warn terms.warn" in result.stdout
    assert "warn limits.hashtags" in result.stdout


def test_a_thread_from_standard_input_is_checked_part_by_part_as_json(cli: Cli) -> None:
    result = cli("check", "--thread", "--file", "-", "--json", input="Fine.\n---\nSee bit.ly/x\n")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [p["text"] for p in report["parts"]] == ["Fine.", "See bit.ly/x"]
    assert [(f["part"], f["rule"]) for f in report["findings"]] == [(1, "links.shortener")]
    assert report["ok"] is False


def test_the_map_in_force_decides_which_links_are_allowed(cli: Cli) -> None:
    result = cli("check", "--json", "Read https://example.com/story")
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["links.not_allowed"]


def test_text_and_file_together_are_bad_input(cli: Cli) -> None:
    result = cli("check", "hello", "--file", "-")
    assert result.exit_code == 2
    assert "not both" in result.stderr


def test_check_stores_nothing(cli: Cli) -> None:
    before = cli.json("audit", "verify")["checked"]
    cli("check", "Email jo@example.org")
    assert cli.json("audit", "verify")["checked"] == before


def test_a_zero_width_space_hiding_a_blocked_term_is_itself_a_blocking_finding(cli: Cli) -> None:
    result = cli("check", "Results gu\u200baranteed today")
    assert result.exit_code == 1
    assert "block text.hidden_characters at 10-11 'U+200B ZERO WIDTH SPACE'" in result.stdout
    assert "terms.blocked" not in result.stdout  # the term rule alone would have missed it


def test_the_hidden_characters_rule_can_be_made_a_warning(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "lenient.toml"
    original = cli.settings.config.read_text(encoding="utf-8")
    config.write_text(
        original.replace("[policy.rules]", '[policy.rules]\n"text.hidden_characters" = "warn"', 1)
    )
    result = cli("check", "--config", str(config), "--json", "Read this \u202eslowly")
    assert result.exit_code == 0, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["severity"]) == ("text.hidden_characters", "warn")


def test_an_emoji_family_is_no_finding(cli: Cli) -> None:
    result = cli("check", "Family day 👨\u200d👩\u200d👧 at the office")
    assert result.exit_code == 0
    assert "no findings" in result.stdout


def test_with_no_text_and_no_file_the_check_reads_a_piped_standard_input(cli: Cli) -> None:
    result = cli("check", input="Results guaranteed today\n")
    assert result.exit_code == 1
    assert "block terms.blocked" in result.stdout


def test_a_real_pipe_into_pressgate_check_is_checked(tmp_path: Path) -> None:
    """As a shell runs it, `echo … | pressgate check`, outside any installation."""
    done = pressgate_process(
        ["check", "--json"], {"HOME": str(tmp_path)}, input="Hello all", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["parts"][0]["weighted_length"] == len("Hello all")


def test_with_no_text_at_a_terminal_the_check_says_what_to_give_and_exits_2(tmp_path: Path) -> None:
    """At a terminal nothing is piped: waiting for typing would look like a hang."""
    main, terminal = os.openpty()
    try:
        done = pressgate_process(["check"], {"HOME": str(tmp_path)}, stdin=terminal, cwd=tmp_path)
    finally:
        os.close(terminal)
        os.close(main)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: no text to check: give it as an argument, with --file, or on standard input"
    ]


def _apply_a_map_blocking_synergy(cli: Cli, tmp_path: Path) -> None:
    """A new map in force whose policy blocks "synergy"; the config file on disk does not."""
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(
        cli.settings.config.read_text(encoding="utf-8").replace(
            'blocked_terms = ["guaranteed"', 'blocked_terms = ["synergy", "guaranteed"', 1
        ),
        encoding="utf-8",
    )
    assert cli("check", "Real synergy today").exit_code == 0
    cli.ok("map", "apply", "--as", "dana@example.org", "--config", str(stricter))


def test_inside_an_installation_the_map_in_force_judges_not_the_file_on_disk(
    cli: Cli, tmp_path: Path
) -> None:
    """The config file on disk was only the first map: once another is applied (`map apply`),
    a check judges by that one, in-process and as the installed command."""
    _apply_a_map_blocking_synergy(cli, tmp_path)
    result = cli("check", "Real synergy today")
    assert result.exit_code == 1
    assert "block terms.blocked at 5-12 'synergy'" in result.stdout
    env = {
        "HOME": str(tmp_path),
        "PRESSGATE_DATABASE_URL": cli.settings.database_url,
        "PRESSGATE_CONFIG": str(cli.settings.config),
    }
    done = pressgate_process(["check", "--json", "Real synergy today"], env, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert [f["rule"] for f in json.loads(done.stdout)["findings"]] == ["terms.blocked"]


def test_before_init_the_config_file_judges_and_no_database_is_made(
    database_url: str, tmp_path: Path
) -> None:
    """No map in force yet (no SQLite file; a PostgreSQL database with no tables)."""
    command = make_cli(database_url, tmp_path)
    result = command("check", "Results guaranteed today")
    assert result.exit_code == 1, result.stderr
    assert "block terms.blocked" in result.stdout
    assert not (tmp_path / "pressgate.db").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_url_of_another_form_judges_by_the_same_map(cli: Cli, tmp_path: Path) -> None:
    """A URL with a query string is read through SQLAlchemy rather than sqlite3 alone."""
    _apply_a_map_blocking_synergy(cli, tmp_path)
    settings = cli.settings.model_copy(
        update={"database_url": f"{cli.settings.database_url}?timeout=5"}
    )
    odd = Cli(settings=settings, clock=cli.clock, runner=cli.runner)
    result = odd("check", "Real synergy today")
    assert result.exit_code == 1, result.stderr
    assert "block terms.blocked at 5-12 'synergy'" in result.stdout
