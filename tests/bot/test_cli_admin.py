"""`pressgate init`, `map`, and `audit`: the operator's commands, run as a user types them."""

import json
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from tests.bot.attacker import tampering
from tests.bot.conftest import Cli, every_row
from tests.bot.publishing_world import SECRET
from tests.factories import EXAMPLE_CONFIG


def test_init_twice_changes_nothing_the_second_time(cli: Cli) -> None:
    again = cli.json("init")
    assert again["map_changed"] is False
    assert again["map_version"] == 1


def test_init_with_example_writes_the_example_config(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "new" / "pressgate.toml"
    result = cli.json("init", "--example", "--config", str(target))
    assert target.read_text(encoding="utf-8") == EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert result["config"] == str(target)


def test_map_check_accepts_the_example(cli: Cli) -> None:
    summary = cli.json("map", "check", "--config", str(EXAMPLE_CONFIG))
    assert summary == {
        "file": str(EXAMPLE_CONFIG),
        "ok": True,
        "accounts": 3,
        "roles": 5,
        "people": 8,
    }


BAD_CONFIGS = [
    pytest.param(
        ('roles = ["approver"]', 'roles = ["aprover"]'),
        "roles: unknown role 'aprover'",
        id="unknown role",
    ),
    pytest.param(
        ('accounts = ["@DeptHelp"]', 'accounts = ["@DeptJobs"]'),
        "account '@DeptJobs' is not defined",
        id="account referenced but not defined",
    ),
    pytest.param(
        ('email = "pat@example.org"', 'email = "alice@example.org"'),
        "people[alice@example.org]: person defined twice",
        id="duplicate person",
    ),
    pytest.param(
        ("approvals_required = 1", "approvals_required = 0"),
        "accounts[@DeptHelp].approvals_required: must be at least 1",
        id="approvals_required of 0",
    ),
    pytest.param(
        ("approvals_required = 2 ", "approvals_required = 9 "),
        "accounts[@DeptNews].approvals_required: needs 9 approvals but only 3 people may approve",
        id="approvals_required above the eligible approvers",
    ),
    pytest.param(
        ('timezone = "Europe/London"\nquiet', 'timezone = "Europe/Lodnon"\nquiet'),
        "accounts[@DeptNews].timezone: unknown time zone 'Europe/Lodnon'",
        id="bad time zone",
    ),
    pytest.param(
        ('kind = "personal"\n', 'kind = "personal"\napprovals_required = 1\n'),
        "accounts[@PermSecPersonal].approvals_required: personal accounts are never published to",
        id="personal account given approvers",
    ),
    pytest.param(
        ("[[accounts]]", "[[accounts]\n"),
        "pressgate.toml: not valid TOML",
        id="not TOML at all",
    ),
]


@pytest.mark.parametrize(("edit", "problem"), BAD_CONFIGS)
def test_map_check_refuses_a_bad_file_with_one_line_naming_file_and_key(
    cli: Cli, tmp_path: Path, edit: tuple[str, str], problem: str
) -> None:
    source = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    old, new = edit
    assert old in source, "the edit must apply to the example"
    bad = tmp_path / "bad" / "pressgate.toml"
    bad.parent.mkdir()
    bad.write_text(source.replace(old, new, 1), encoding="utf-8")

    result = cli("map", "check", "--config", str(bad))

    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {bad}: ")
    assert problem in lines[0]
    assert result.stdout == ""


def test_a_bad_file_is_not_applied_by_init(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8").replace("approvals_required = 2", "x = 1"),
        encoding="utf-8",
    )
    assert cli("init", "--config", str(bad)).exit_code == 2
    assert cli.json("init")["map_version"] == 1


def test_map_explain_says_who_can_approve_on_an_account(cli: Cli) -> None:
    explained = cli.json("map", "explain", "@deptnews")
    assert explained["account"] == "@DeptNews"
    assert explained["approvals_required"] == 2
    assert explained["rights"]["approve"] == [
        "bob@example.org",
        "carol@example.org",
        "dana@example.org",
    ]
    table = cli.ok("map", "explain", "@DeptNews").stdout
    assert "2 approval(s) required" in table
    assert "bob@example.org" in table


def test_map_explain_says_what_a_person_can_do(cli: Cli) -> None:
    explained = cli.json("map", "explain", "alice@example.org")
    assert explained["rights"] == {
        "@DeptNews": ["draft", "submit"],
        "@DeptHelp": ["draft", "submit"],
    }
    assert explained["personal_handles"] == ["@alice_ahmed"]
    assert "never postable" in cli.ok("map", "explain", "alice@example.org").stdout


def test_map_explain_of_a_personal_account_says_nobody_posts_to_it(cli: Cli) -> None:
    assert "nobody can post to it" in cli.ok("map", "explain", "@PermSecPersonal").stdout


@pytest.mark.parametrize("subject", ["@Nobody", "mallory@example.org", "alice"])
def test_map_explain_of_an_unknown_subject_is_bad_input(cli: Cli, subject: str) -> None:
    result = cli("map", "explain", subject)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_map_apply_needs_the_manage_right(cli: Cli, tmp_path: Path) -> None:
    changed = tmp_path / "changed.toml"
    changed.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
            "approvals_required = 2 ", "approvals_required = 3 "
        ),
        encoding="utf-8",
    )
    refused = cli("map", "apply", "--as", "alice@example.org", "--config", str(changed))
    assert refused.exit_code == 1
    assert "manage" in refused.stderr
    assert cli.json("map", "explain", "@DeptNews")["approvals_required"] == 2

    cli.ok("map", "apply", "--as", "dana@example.org", "--config", str(changed))
    assert cli.json("map", "explain", "@DeptNews")["approvals_required"] == 3


def test_audit_verify_passes_on_an_untouched_log(cli: Cli) -> None:
    cli.ok("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hello", "--submit")
    verdict = cli.json("audit", "verify")
    assert verdict["ok"] is True
    assert verdict["checked"] >= 3


def test_audit_verify_names_the_entry_a_direct_database_edit_broke(cli: Cli) -> None:
    post = cli.json(
        "draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hello", "--submit"
    )
    cli.ok("approve", str(post["id"]), "--as", "bob@example.org")
    with tampering(cli.settings.database_url) as conn:
        total = conn.execute(text("SELECT count(*) FROM auditentry")).scalar_one()
        conn.execute(
            text("UPDATE auditentry SET actor = 'carol@example.org' WHERE seq = :seq"),
            {"seq": total - 1},
        )

    result = cli("audit", "verify")

    assert result.exit_code == 1
    assert f"audit log broken at entry {total - 1}" in result.stderr
    assert cli("audit", "verify", "--json").exit_code == 1
    verdict = json.loads(cli("audit", "verify", "--json").stdout)
    assert verdict["first_bad_entry"] == total - 1
    assert verdict["checked"] == total - 2


def test_audit_export_writes_one_json_line_per_entry(cli: Cli, tmp_path: Path) -> None:
    cli.ok("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hello")
    out = tmp_path / "audit.jsonl"
    cli.ok("audit", "export", "--output", str(out))
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["action"] == "map.load"
    assert entries[-1]["action"] == "post.draft"
    assert all(len(e["hash"]) == 64 for e in entries)
    assert cli.json("audit", "verify")["checked"] == len(entries)
    assert cli.ok("audit", "export").stdout.splitlines() == out.read_text().splitlines()


def _changed_config(tmp_path: Path) -> Path:
    changed = tmp_path / "changed.toml"
    changed.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
            "approvals_required = 2 ", "approvals_required = 3 "
        ),
        encoding="utf-8",
    )
    return changed


def _differs(config: Path) -> str:
    return (
        f"error: {config} differs from the permission map in force (version 1); nothing "
        "changed: replace the map with `pressgate map apply --as EMAIL` or `pressgate init "
        "--as EMAIL` (someone holding `manage`)"
    )


def _map_loads(cli: Cli) -> list[tuple[str, str]]:
    exported = [json.loads(line) for line in cli.ok("audit", "export").stdout.splitlines()]
    return [(e["actor"], e["subject"]) for e in exported if e["action"] == "map.load"]


def test_the_first_init_loads_the_map_as_system(cli: Cli) -> None:
    assert _map_loads(cli) == [("system", "map:1")]


def test_init_with_another_config_and_no_as_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    changed = _changed_config(tmp_path)
    before = every_row(cli)

    result = cli("init", "--config", str(changed))

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [_differs(changed)]
    assert every_row(cli) == before


def test_init_with_another_config_needs_someone_holding_manage(cli: Cli, tmp_path: Path) -> None:
    changed = _changed_config(tmp_path)
    before = every_row(cli)

    refused = cli("init", "--config", str(changed), "--as", "alice@example.org")

    assert refused.exit_code == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: alice@example.org")
    assert "manage" in lines[0]
    assert every_row(cli) == before

    replaced = cli.json("init", "--config", str(changed), "--as", "dana@example.org")
    assert (replaced["map_changed"], replaced["map_version"]) == (True, 2)
    assert _map_loads(cli) == [("system", "map:1"), ("dana@example.org", "map:2")]
    assert cli.json("map", "explain", "@DeptNews")["approvals_required"] == 3


def test_run_with_a_config_that_differs_from_the_map_in_force_refuses_to_start(
    cli: Cli, tmp_path: Path
) -> None:
    changed = _changed_config(tmp_path)
    cli.settings = cli.settings.model_copy(
        update={"config": changed, "secret_key": SecretStr(SECRET), "sandbox": True}
    )
    before = every_row(cli)

    result = cli("run", "--worker-only")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [_differs(changed)]
    assert every_row(cli) == before
