"""The personal-use guidance: rendered from the map, a self-check that only advises, and
published versions that staff record having read, all on the audit record."""

import json
from datetime import timedelta

import pytest
from sqlmodel import func, select

from approvals.config import DEFAULT_GROUND_RULES, config_from_dict
from approvals.errors import PermissionDenied, Refused
from approvals.models import AuditEntry, GuidanceRead, GuidanceVersion
from approvals.records import audit
from approvals.staff import guidance
from approvals.staff.self_check import self_check
from tests.factories import Org, example_config, small_config

# --- the text ---------------------------------------------------------------------------


def test_the_guidance_numbers_every_ground_rule_and_names_the_organisation() -> None:
    config = config_from_dict(
        small_config(
            guidance={
                "organisation": "HM Example Office",
                "contact": "the press office on extension 4000",
                "ground_rules": ["First rule.", "Second rule.", "Third rule."],
            }
        )
    )
    text = guidance.render_guidance(config)
    assert text.startswith("# ") and "HM Example Office" in text.splitlines()[0]
    assert "1. First rule.\n2. Second rule.\n3. Third rule.\n" in text
    assert "Ask the press office on extension 4000." in text


def test_the_default_guidance_holds_the_departments_ground_rules() -> None:
    text = guidance.render_guidance(example_config())
    for number, rule in enumerate(DEFAULT_GROUND_RULES, start=1):
        assert f"{number}. {rule}" in text


def test_the_guidance_lists_the_corporate_accounts_but_no_ones_personal_handle() -> None:
    text = guidance.render_guidance(example_config())
    assert "@DeptNews" in text and "@DeptHelp" in text
    assert "pressgate never posts to them" in text
    assert "@alice_ahmed" not in text
    assert "@PermSecPersonal" not in text


# --- the self-check ---------------------------------------------------------------------


def findings(text: str) -> list[tuple[str, str]]:
    return [(f.rule, f.excerpt) for f in self_check(text, example_config())]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Drop me a line at jo.bloggs@example.com",
            [("personal_data.email", "jo.bloggs@example.com")],
            id="e-mail address",
        ),
        pytest.param(
            "I'm at the station now",
            [("personal_data.whereabouts", "I'm at the station now")],
            id="whereabouts",
        ),
        pytest.param(
            "Speaking on behalf of the department, the new rules are fair",
            [("guidance.speaks_for_department", "on behalf of the department")],
            id="on behalf of the department",
        ),
        pytest.param(
            "As a spokesperson I can confirm it",
            [("guidance.speaks_for_department", "As a spokesperson")],
            id="spokesperson",
        ),
        pytest.param(
            "Our department has got this right",
            [("guidance.speaks_for_department", "Our department")],
            id="our department",
        ),
        pytest.param(
            "Good thread from @deptnews on the deadline",
            [("guidance.speaks_for_department", "@deptnews")],
            id="corporate handle in any case",
        ),
        pytest.param("Love our logo", [("guidance.logo", "our logo")], id="our logo"),
        pytest.param(
            "Made a mug with the ministry crest on it",
            [("guidance.logo", "ministry crest")],
            id="crest next to a department word",
        ),
        pytest.param(
            "New profile picture [image: crest.png]",
            [("guidance.logo", "crest.png")],
            id="image described as the crest",
        ),
        pytest.param(
            "Speaking for the department at the station now, our logo",
            [
                ("guidance.speaks_for_department", "Speaking for the department"),
                ("guidance.logo", "our logo"),
            ],
            id="a far-off cue does not stretch the excerpt",
        ),
    ],
)
def test_the_self_check_finds_what_the_guidance_warns_about(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert findings(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "Great match today! 3-1 to the Rovers, what a goal in the 89th minute. "
            "Back at the ground next Saturday with the kids.",
            id="football match",
        ),
        pytest.param("Loving the new club crest, proper old school", id="club crest"),
        pytest.param("Bought a new brand of coffee, not sure yet", id="brand of coffee"),
        pytest.param("Our brand new kitchen is finally done", id="brand new"),
        pytest.param("I speak for myself: that was a great gig", id="speaking for myself"),
        pytest.param("Sale on at the department store", id="department store"),
    ],
)
def test_the_self_check_leaves_an_ordinary_personal_post_alone(text: str) -> None:
    assert findings(text) == []


def test_every_self_check_finding_is_advisory_with_an_exact_span() -> None:
    text = "Speaking for the department from home: call 07700 900123 or see our logo"
    found = self_check(text, example_config())
    assert {f.rule for f in found} >= {
        "guidance.speaks_for_department",
        "personal_data.uk_phone",
        "guidance.logo",
    }
    for finding in found:
        assert finding.severity == "warn"
        assert text[finding.start : finding.end] == finding.excerpt
        assert finding.explanation


def test_the_self_check_uses_the_organisation_and_official_terms_from_the_map() -> None:
    config = config_from_dict(
        small_config(
            guidance={"organisation": "HM Example Office", "official_terms": ["press office"]}
        )
    )
    found = self_check("Word from hm example office and the Press  Office", config)
    assert [(f.rule, f.excerpt) for f in found] == [
        ("guidance.speaks_for_department", "hm example office"),
        ("guidance.speaks_for_department", "Press  Office"),
    ]
    assert "HM Example Office" in found[0].explanation


# --- published versions -----------------------------------------------------------------


def publish_as(org: Org, email: str) -> GuidanceVersion | None:
    version = guidance.publish(org.session, actor=org.person(email), now=org.clock.now())
    org.session.commit()
    return version


def audit_count(org: Org) -> int:
    return org.session.exec(select(func.count()).select_from(AuditEntry)).one()


def test_only_someone_who_manages_the_map_may_publish_the_guidance(org: Org) -> None:
    with pytest.raises(PermissionDenied, match=r"alice@example\.org may not manage"):
        guidance.publish(org.session, actor=org.person("alice@example.org"), now=org.clock.now())
    org.session.rollback()
    assert guidance.current_version(org.session) is None

    version = publish_as(org, "dana@example.org")
    assert version is not None
    assert guidance.current_version(org.session) == version
    assert version.published_by == "dana@example.org"
    assert version.text == guidance.render_guidance(config_from_dict(small_config()))


def test_publishing_is_audited_with_the_hash_it_replaces(org: Org) -> None:
    first = publish_as(org, "dana@example.org")
    assert first is not None
    org.apply(small_config(guidance={"ground_rules": ["Think before you post."]}))
    second = publish_as(org, "dana@example.org")
    assert second is not None and second.id != first.id
    assert "1. Think before you post." in second.text

    entries = audit.entries_for(org.session, f"guidance:{second.id}")
    assert [(e.action, e.actor) for e in entries] == [("guidance.publish", "dana@example.org")]
    assert json.loads(entries[0].details) == {
        "version_id": second.id,
        "content_hash": second.content_hash,
        "previous_hash": first.content_hash,
    }
    assert audit.verify(org.session).ok


def test_publishing_unchanged_guidance_changes_nothing(org: Org) -> None:
    first = publish_as(org, "dana@example.org")
    before = audit_count(org)
    assert publish_as(org, "dana@example.org") is None
    assert guidance.current_version(org.session) == first
    assert audit_count(org) == before


def test_reading_before_anything_is_published_is_refused(org: Org) -> None:
    with pytest.raises(Refused, match="no guidance has been published"):
        guidance.record_read(
            org.session, person=org.person("alice@example.org"), now=org.clock.now()
        )


def test_recording_a_read_twice_keeps_one_record_and_one_audit_entry(org: Org) -> None:
    version = publish_as(org, "dana@example.org")
    assert version is not None
    alice = org.person("alice@example.org")
    first = guidance.record_read(org.session, person=alice, now=org.clock.now())
    org.session.commit()
    org.clock.advance(timedelta(hours=1))
    again = guidance.record_read(org.session, person=alice, now=org.clock.now())
    org.session.commit()

    assert again.id == first.id and again.read_at == first.read_at
    assert org.session.exec(select(func.count()).select_from(GuidanceRead)).one() == 1
    entries = audit.entries_for(org.session, f"guidance:{version.id}")
    assert [(e.action, e.actor) for e in entries] == [
        ("guidance.publish", "dana@example.org"),
        ("guidance.read", "alice@example.org"),
    ]


def test_status_shows_who_has_read_the_current_version(org: Org) -> None:
    everyone = [p["email"] for p in small_config()["people"]]
    assert guidance.read_status(org.session) == [(email, False) for email in everyone]

    publish_as(org, "dana@example.org")
    guidance.record_read(org.session, person=org.person("bob@example.org"), now=org.clock.now())
    org.session.commit()
    status = dict(guidance.read_status(org.session))
    assert status["bob@example.org"] is True
    assert [e for e, read in status.items() if not read] == [
        e for e in everyone if e != "bob@example.org"
    ]


def test_a_new_version_asks_everyone_to_read_again(org: Org) -> None:
    publish_as(org, "dana@example.org")
    guidance.record_read(org.session, person=org.person("bob@example.org"), now=org.clock.now())
    org.apply(small_config(guidance={"contact": "the press office"}))
    publish_as(org, "dana@example.org")
    assert dict(guidance.read_status(org.session))["bob@example.org"] is False


def test_the_view_says_whether_the_published_text_is_what_the_map_now_says(org: Org) -> None:
    draft = guidance.current_guidance(org.session)
    assert draft.version is None and not draft.up_to_date
    version = publish_as(org, "dana@example.org")
    assert guidance.current_guidance(org.session).up_to_date

    org.apply(small_config(guidance={"contact": "the press office"}))
    stale = guidance.current_guidance(org.session)
    assert stale.version == version and not stale.up_to_date
    assert version is not None and stale.text == version.text
