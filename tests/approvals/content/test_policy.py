"""The content policy: each rule finds what it should and nothing it should not, severities
follow the map, and blocking findings stop both submit and publish."""

from datetime import timedelta
from typing import Any

import pytest

from approvals.config import config_from_dict
from approvals.content.policy import PartToCheck, check, tag_links
from approvals.content.policy_config import PolicyConfig, UtmConfig
from approvals.delivery.publishing import start_publishing
from approvals.errors import ConfigError, Refused
from approvals.models import PostState
from approvals.posts import PartInput, current_revision, edit, revision_parts, submit
from tests.factories import Org, small_config


def rules_of(text: str | list[str | PartToCheck], **policy: Any) -> list[str]:
    parts = text if isinstance(text, list) else [text]
    return [f.rule for f in check(parts, policy=PolicyConfig(**policy)).findings]


def test_a_plain_announcement_has_no_findings() -> None:
    report = check(["Applications for the autumn grants open today: https://www.gov.uk/grants"])
    assert report.findings == []
    assert report.lengths == [len("Applications for the autumn grants open today: ") + 23]


def test_findings_carry_rule_severity_span_and_explanation() -> None:
    text = "Questions? Write to jo.bloggs@example.org today."
    (finding,) = check([text]).findings
    assert finding.rule == "personal_data.email"
    assert finding.severity == "block"
    assert text[finding.start : finding.end] == "jo.bloggs@example.org" == finding.excerpt
    assert "email" in finding.explanation.lower()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a" * 280, [], id="280 characters fit"),
        pytest.param("a" * 281, ["length"], id="281 do not"),
        pytest.param("高" * 140, [], id="CJK weighs two: 140 fit"),
        pytest.param("高" * 141, ["length"], id="141 CJK do not"),
        pytest.param("x" * 256 + " https://example.org/" + "p" * 300, [], id="a URL counts 23"),
        pytest.param("bad \ufffe char", ["text.invalid"], id="a character X refuses"),
        pytest.param("   ", ["text.invalid"], id="blank"),
    ],
)
def test_length_follows_twitter_text(text: str, expected: list[str]) -> None:
    assert rules_of(text) == expected


def test_emoji_count_two_under_v3_and_by_code_point_under_v2() -> None:
    family = "👨‍👩‍👧‍👦"
    assert check([family]).lengths == [2]
    # v2 weighs each code point: four emoji at 2, three zero-width joiners at 1.
    assert check([family], policy=PolicyConfig(text_version=2)).lengths == [11]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("This is Guaranteed.", ["terms.blocked"], id="case folded"),
        pytest.param("unguaranteed results", [], id="word boundary"),
        pytest.param("A  cast   iron promise", ["terms.blocked"], id="phrase with spaces"),
        pytest.param("We hope so", ["terms.warn"], id="warn term"),
    ],
)
def test_blocked_and_warn_terms(text: str, expected: list[str]) -> None:
    terms = {"blocked_terms": ["guaranteed", "cast iron promise"], "warn_terms": ["hope"]}
    assert rules_of(text, **terms) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("See https://www.gov.uk/x", [], id="allowed"),
        pytest.param("See https://news.gov.uk/x", [], id="allowed subdomain"),
        pytest.param("See https://example.com/x", ["links.not_allowed"], id="not on allow list"),
        pytest.param("See rumours.gov.uk", ["links.blocked_domain"], id="blocked, no scheme"),
        pytest.param("See https://bit.ly/3xYz", ["links.shortener"], id="shortener"),
    ],
)
def test_links_follow_the_allow_and_block_lists(text: str, expected: list[str]) -> None:
    lists = {"link_allow": ["gov.uk", "bit.ly"], "link_block": ["rumours.gov.uk"]}
    assert rules_of(text, **lists) == expected


def test_an_image_without_alt_text_is_found_and_a_media_only_post_is_fine() -> None:
    assert rules_of([PartToCheck("Chart", ("A bar chart", None))]) == ["media.alt_text"]
    assert rules_of([PartToCheck("", ("A photo of the new office",))]) == []


def test_staff_personal_handles_may_not_be_mentioned_or_tagged() -> None:
    report = check(
        ["Thanks @Alice_Ahmed and #alice_ahmed, and @DeptHelp"],
        personal_handles=["@alice_ahmed"],
    )
    assert [(f.rule, f.excerpt) for f in report.findings] == [
        ("mentions.personal_handle", "@Alice_Ahmed"),
        ("mentions.personal_handle", "#alice_ahmed"),
    ]


def test_hashtag_and_mention_limits_point_at_the_first_one_too_many() -> None:
    text = "#one #two #three @a @b"
    (finding,) = check([text], policy=PolicyConfig(max_hashtags=2, max_mentions=5)).findings
    assert finding.rule == "limits.hashtags" and finding.severity == "warn"
    assert text[finding.start : finding.end] == "#three"


def test_severities_can_be_changed_or_switched_off_in_the_map() -> None:
    text = "Call 020 7946 0000"
    assert [f.severity for f in check([text]).findings] == ["block"]
    relaxed = PolicyConfig(rules={"personal_data.uk_phone": "warn"})
    assert [f.severity for f in check([text], policy=relaxed).findings] == ["warn"]
    off = PolicyConfig(rules={"personal_data.uk_phone": "off"})
    assert check([text], policy=off).findings == []


def test_an_unknown_rule_in_the_map_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(small_config(policy={"rules": {"personal_data.emial": "warn"}}))
    (problem,) = caught.value.problems
    assert "policy.rules" in problem and "unknown rule 'personal_data.emial'" in problem


def test_every_part_of_a_thread_is_checked() -> None:
    findings = check(["Fine", "Ring 07700 900123"]).findings
    assert [(f.part, f.rule) for f in findings] == [(1, "personal_data.uk_phone")]


def test_campaign_tags_are_added_to_links_without_them() -> None:
    utm = UtmConfig(campaign="grants26")
    assert tag_links("Apply: https://www.gov.uk/grants?lang=en now", utm) == (
        "Apply: https://www.gov.uk/grants?lang=en&utm_source=twitter&utm_medium=social"
        "&utm_campaign=grants26 now"
    )
    assert tag_links("gov.uk/x", utm) == (
        "gov.uk/x?utm_source=twitter&utm_medium=social&utm_campaign=grants26"
    )
    already = "https://gov.uk/?utm_source=mail"
    assert tag_links(already, utm) == already


def test_a_post_with_blocking_findings_cannot_be_submitted(org: Org) -> None:
    post = org.draft("Any questions, email jo.bloggs@example.org")
    assert post.id is not None
    with pytest.raises(Refused, match="blocking policy findings"):
        submit(
            org.session, actor=org.person("alice@example.org"), post_id=post.id, now=org.clock.now()
        )
    assert post.state == PostState.DRAFT


def test_a_rule_added_after_approval_stops_the_post_at_publish_time(org: Org) -> None:
    post = org.submitted("Guaranteed results for everyone", scheduled_in=timedelta(minutes=5))
    org.approve(post, "bob@example.org", "carol@example.org")
    org.apply(small_config(policy={"blocked_terms": ["guaranteed"]}))
    org.clock.advance(timedelta(minutes=6))
    assert post.id is not None
    claim = start_publishing(org.session, post_id=post.id, worker="w", now=org.clock.now())
    assert not claim.claimed
    assert post.state == PostState.FAILED
    assert "blocked by policy" in (post.state_reason or "")


def test_utm_tags_go_on_when_drafted_so_approvers_see_them(org: Org) -> None:
    org.apply(small_config(policy={"utm": {"campaign": "launch"}}))
    post = org.draft("Read it at https://www.gov.uk/report")
    (part,) = revision_parts(org.session, current_revision(org.session, post))
    assert part.text.endswith("utm_campaign=launch")


def test_an_edit_in_review_that_adds_a_blocking_finding_goes_back_to_draft(org: Org) -> None:
    post = org.submitted("Our new guidance is out today.")
    org.approve(post, "bob@example.org")
    assert post.id is not None
    edit(
        org.session,
        actor=org.person("alice@example.org"),
        post_id=post.id,
        parts=[PartInput("Our new guidance is out today. Questions: jo@example.org")],
        now=org.clock.now(),
    )
    assert post.state == PostState.DRAFT
    assert "blocking policy findings" in (post.state_reason or "")
