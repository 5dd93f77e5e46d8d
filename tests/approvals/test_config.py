"""Validating pressgate.toml: a bad file is refused as a whole, each problem on one line
naming the file and the key."""

import copy
from pathlib import Path
from typing import Any

import pytest

from approvals.config import Action, config_from_dict, load_config, parse_config
from approvals.errors import ConfigError
from approvals.permissions import PermissionMap
from tests.factories import EXAMPLE_CONFIG, small_config


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw, source="pressgate.toml")
    return caught.value.problems


def test_the_example_config_models_a_press_office() -> None:
    config = load_config(EXAMPLE_CONFIG)
    pmap = PermissionMap.from_config(config)
    corporate = pmap.corporate_accounts()
    assert [a.handle for a in corporate] == ["@DeptNews", "@DeptHelp"]
    assert [a.required for a in corporate] == [2, 1]
    assert pmap.holders(Action.APPROVE, "@DeptNews") == [
        "bob@example.org",
        "carol@example.org",
        "dana@example.org",
    ]
    assert pmap.can("dana@example.org", Action.MANAGE)
    assert pmap.can("sam@example.org", Action.PAUSE)
    assert not pmap.can("alice@example.org", Action.APPROVE, "@DeptNews")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda raw: raw["people"][0]["roles"].append("aprover"),
            "pressgate.toml: people[alice@example.org].roles: unknown role 'aprover' "
            "(defined roles: approver, lead, officer)",
            id="unknown role",
        ),
        pytest.param(
            lambda raw: raw["roles"]["approver"]["accounts"].append("@DeptJobs"),
            "pressgate.toml: roles.approver.accounts: account '@DeptJobs' is not defined "
            "in [[accounts]]",
            id="account referenced but not defined",
        ),
        pytest.param(
            lambda raw: raw["people"].append({"email": "Bob@Example.org", "roles": []}),
            "pressgate.toml: people[bob@example.org]: person defined twice",
            id="duplicate person",
        ),
        pytest.param(
            lambda raw: raw["accounts"][1].update(approvals_required=0),
            "pressgate.toml: accounts[@DeptHelp].approvals_required: must be at least 1 (got 0)",
            id="approvals_required of 0",
        ),
        pytest.param(
            lambda raw: raw["accounts"][0].update(approvals_required=4),
            "pressgate.toml: accounts[@DeptNews].approvals_required: needs 4 approvals but "
            "only 3 people may approve on it",
            id="approvals_required above eligible approvers",
        ),
        pytest.param(
            lambda raw: raw["accounts"][0].update(timezone="Europe/Londn"),
            "pressgate.toml: accounts[@DeptNews].timezone: unknown time zone 'Europe/Londn' "
            "(use an IANA name such as Europe/London)",
            id="bad time zone",
        ),
        pytest.param(
            lambda raw: raw["roles"]["approver"]["accounts"].append("@MinisterOwn"),
            "pressgate.toml: roles.approver.accounts: @MinisterOwn is a personal account; "
            "it cannot be given approve rights (guidance only)",
            id="personal account given approvers",
        ),
        pytest.param(
            lambda raw: raw["accounts"][2].update(approvals_required=1),
            "pressgate.toml: accounts[@MinisterOwn].approvals_required: personal accounts are "
            "never published to, so they take no approval settings",
            id="personal account given an approval count",
        ),
        pytest.param(
            lambda raw: raw["accounts"].append({"handle": "@deptnews", "kind": "corporate"}),
            "pressgate.toml: accounts[@deptnews]: account defined twice",
            id="duplicate account",
        ),
        pytest.param(
            lambda raw: raw["accounts"][0].update(kind="company"),
            "pressgate.toml: accounts[@DeptNews].kind: Input should be 'corporate' or 'personal'",
            id="bad kind",
        ),
        pytest.param(
            lambda raw: raw["roles"]["officer"].update(actions=["draft", "tweet"]),
            "pressgate.toml: roles.officer.actions[#2]: Input should be 'draft', 'submit', "
            "'approve', 'publish_now', 'pause', 'takedown', 'view_analytics' or 'manage'",
            id="unknown action",
        ),
        pytest.param(
            lambda raw: raw["people"][1].update(emial="x"),
            "pressgate.toml: people[bob@example.org].emial: unknown key",
            id="misspelt key",
        ),
        pytest.param(
            lambda raw: raw["people"][0].update(email="alice-at-example.org"),
            "pressgate.toml: people[alice-at-example.org].email: 'alice-at-example.org' is not "
            "an e-mail address",
            id="bad e-mail",
        ),
        pytest.param(
            lambda raw: raw["accounts"][0].update(handle="@Dept News"),
            "pressgate.toml: accounts[@Dept News].handle: '@Dept News' is not an X handle "
            "(1-15 letters, digits or _)",
            id="bad handle",
        ),
        pytest.param(
            lambda raw: raw["people"][0].update(personal_handles=["@DeptNews"]),
            "pressgate.toml: people[alice@example.org].personal_handles: @DeptNews is a "
            "corporate account, not personal",
            id="personal handle that is corporate",
        ),
    ],
)
def test_each_bad_config_gives_one_clear_line(change: Any, expected: str) -> None:
    raw = copy.deepcopy(small_config())
    change(raw)
    assert problems_of(raw) == [expected]


def test_several_problems_are_all_reported() -> None:
    raw = copy.deepcopy(small_config())
    raw["accounts"][0]["timezone"] = "Mars/Olympus"
    raw["accounts"][1]["kind"] = "company"
    assert len(problems_of(raw)) == 2


def test_a_toml_syntax_error_names_the_file_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("[[accounts]]\nhandle = \n", source="pressgate.toml")
    (line,) = caught.value.problems
    assert line.startswith("pressgate.toml: not valid TOML:")
    assert "line 2" in line


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="file not found"):
        load_config(missing)


def test_a_missing_section_is_named() -> None:
    raw = small_config()
    del raw["people"]
    assert problems_of(raw) == ["pressgate.toml: people: required key is missing"]


def test_handles_are_matched_without_regard_to_case_or_at_sign() -> None:
    pmap = PermissionMap.from_config(config_from_dict(small_config()))
    assert pmap.can("bob@example.org", Action.APPROVE, "depthelp")
    assert pmap.can("BOB@example.org", Action.APPROVE, "@DEPTHELP")


def test_wildcard_rights_never_reach_personal_accounts() -> None:
    pmap = PermissionMap.from_config(config_from_dict(small_config()))
    assert pmap.can("dana@example.org", Action.APPROVE, "@DeptNews")
    assert not pmap.can("dana@example.org", Action.APPROVE, "@MinisterOwn")
    assert pmap.holders(Action.APPROVE, "@MinisterOwn") == []


def test_rights_of_a_person_answer_what_can_they_do() -> None:
    pmap = PermissionMap.from_config(config_from_dict(small_config()))
    assert pmap.rights_of("alice@example.org") == {
        "@DeptNews": [Action.DRAFT, Action.SUBMIT],
        "@DeptHelp": [Action.DRAFT, Action.SUBMIT],
    }
    assert pmap.rights_of("dana@example.org") == {
        "*": [Action.MANAGE, Action.APPROVE, Action.VIEW_ANALYTICS]
    }


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        pytest.param(
            {"name": "Purdah", "start": "2027-05-01 00:00", "end": "2027-04-01 00:00"},
            "pressgate.toml: blackouts[Purdah].end: must be after start",
            id="end before start",
        ),
        pytest.param(
            {
                "name": "Purdah",
                "start": "2027-04-01 00:00",
                "end": "2027-05-01 00:00",
                "accounts": ["@DeptJobs"],
            },
            "pressgate.toml: blackouts[Purdah].accounts: account '@DeptJobs' is not defined",
            id="unknown account",
        ),
        pytest.param(
            {"name": "Purdah", "start": "2027-03-28 01:30", "end": "2027-05-01 00:00"},
            "pressgate.toml: blackouts[Purdah].start: 2027-03-28 01:30 does not exist in "
            "Europe/London",
            id="nonexistent local time",
        ),
        pytest.param(
            {"name": "Purdah", "start": "April", "end": "2027-05-01 00:00"},
            "'April' is not a time as YYYY-MM-DD HH:MM",
            id="unparseable time",
        ),
    ],
)
def test_a_bad_blackout_window_is_refused(window: dict[str, Any], expected: str) -> None:
    (problem,) = problems_of(small_config(blackouts=[window]))
    assert problem.startswith(expected) or expected in problem
