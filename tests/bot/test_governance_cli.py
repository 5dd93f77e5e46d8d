"""`pressgate map explain` and `pressgate tag`: the stages a post needs, from the command line."""

from datetime import timedelta

import pytest

from tests.approvals.governance_maps import staged_config
from tests.bot.conftest import Cli
from tests.bot.maps import apply_map, with_union_role


@pytest.fixture
def staged_cli(cli: Cli) -> Cli:
    """The example office, then a map with stages applied over it by the operator."""
    apply_map(cli, staged_config())
    return cli


def test_map_explain_shows_an_accounts_stages_and_who_can_sign(staged_cli: Cli) -> None:
    explained = staged_cli.json("map", "explain", "@DeptNews")
    assert [(s["name"], s["rule"], s["when"]) for s in explained["stages"]] == [
        ("press", "any 1 of press_lead", "always"),
        ("legal", "any 1 of legal", "always"),
        ("propriety", "any 1 of propriety", "tag pre-election"),
    ]
    assert explained["stages"][1]["eligible"] == ["carol@example.org", "dana@example.org"]
    assert "any 1 of press_lead" in staged_cli.ok("map", "explain", "@DeptNews").stdout


def test_a_tag_from_the_command_line_adds_a_stage_to_the_post(staged_cli: Cli) -> None:
    post = staged_cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hi")
    tagged = staged_cli.json("tag", str(post["id"]), "pre-election", "--as", "alice@example.org")
    assert tagged["tags"] == ["pre-election"]
    explained = staged_cli.json("map", "explain", f"post:{post['id']}")
    assert [s["name"] for s in explained["stages"]] == ["press", "legal", "propriety"]
    assert explained["stages"][2]["eligible"] == ["gina@example.org"]


def test_a_bad_tag_is_one_line_and_changes_nothing(staged_cli: Cli) -> None:
    post = staged_cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hi")
    result = staged_cli("tag", str(post["id"]), "no spaces", "--as", "alice@example.org")
    assert result.exit_code == 2
    assert "is not a tag" in result.stderr
    assert staged_cli.json("map", "explain", f"post:{post['id']}")["stages"][-1]["name"] == "legal"


def test_a_consultation_from_the_command_line(cli: Cli) -> None:
    """dana (strategy lead) owns the policy; pat, alice and bob comment; sam signs off for the
    union here (the map's union role is set to duty_officer for the test)."""
    with_union_role(cli)
    opened = cli.json(
        "guidance",
        "consult",
        "open",
        "--as",
        "dana@example.org",
        "--until",
        "2026-11-25 17:00",
        "--anonymous",
    )
    number = str(opened["id"])
    ids = [
        cli.json("guidance", "consult", "comment", number, "--as", who, "--text", "Clearer please")[
            "comment_id"
        ]
        for who in ("pat@example.org", "alice@example.org", "bob@example.org")
    ]
    shown = cli.json("guidance", "consult", "show", "--as", "bob@example.org")
    assert [c["author"] for c in shown["comments"]] == ["anonymous", "anonymous", "bob@example.org"]
    late = cli("guidance", "consult", "publish", number, "--as", "dana@example.org")
    assert late.exit_code == 1 and "open for comments until" in late.stderr
    cli.ok("guidance", "consult", "sign-off", number, "--as", "sam@example.org")
    cli.ok(
        "guidance", "consult", "answer", str(ids[0]), "--as", "dana@example.org", "--text", "Done"
    )
    cli.clock.advance(timedelta(days=2))
    published = cli.json("guidance", "consult", "publish", number, "--as", "dana@example.org")
    assert published["signed_off_by"] == "sam@example.org"
    assert published["answered_comments"] == [ids[0]]
    text = cli.ok("guidance", "consult", "show", number, "--as", "dana@example.org").stdout
    assert "#1 pat@example.org: Clearer please" in text
    assert "0 of 8 have acknowledged it" in text
