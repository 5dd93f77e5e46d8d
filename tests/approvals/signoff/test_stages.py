"""Approval stages: an ordered list of "any N of role" / "all of role", with stages added by
policy findings and tags, recomputed from the map in force at each decision and at publish."""

import pytest

from approvals.config import config_from_dict
from approvals.delivery.publishing import start_publishing
from approvals.errors import ConfigError, IllegalTransition, PermissionDenied
from approvals.map_store import current_map
from approvals.models import PostState
from approvals.signoff import review
from approvals.signoff.stages import explain_stages
from approvals.signoff.tags import set_tags
from tests.approvals.governance_maps import staged_config
from tests.factories import Org, small_config


def _staged(org: Org, **kwargs: object) -> None:
    org.apply(staged_config(**kwargs))  # type: ignore[arg-type]


def test_a_plain_count_is_one_stage_anyone_approving_may_fill(org: Org) -> None:
    org.apply(small_config())
    post = org.submitted()
    status = org.approve(post, "bob@example.org")
    assert [(s.name, s.places, s.met) for s in status.stages] == [("approval", 2, False)]
    status = org.approve(post, "carol@example.org")
    assert status.met and post.state == PostState.APPROVED


def test_a_post_needs_every_stage_in_order_before_it_is_approved(org: Org) -> None:
    _staged(org)
    post = org.submitted()
    status = org.approve(post, "bob@example.org")
    assert [(s.name, s.signed) for s in status.stages] == [
        ("press", ["bob@example.org"]),
        ("legal", []),
    ]
    assert not status.met and post.state == PostState.SUBMITTED
    status = org.approve(post, "dana@example.org")
    assert status.met and post.state == PostState.APPROVED


def test_one_person_holding_two_roles_fills_only_one_stage(org: Org) -> None:
    _staged(org)
    post = org.submitted()
    status = org.approve(post, "carol@example.org")  # press lead and legal
    assert not status.met
    assert status.shortfall().startswith("legal (any 1 of legal")
    # A second person of either role completes it: carol is moved to whichever stage is left.
    status = org.approve(post, "bob@example.org")
    assert status.met
    assert {s.name: s.signed for s in status.stages} == {
        "press": ["bob@example.org"],
        "legal": ["carol@example.org"],
    }


def test_someone_who_may_approve_but_fills_no_stage_is_refused(org: Org) -> None:
    _staged(org)
    post = org.submitted()
    with pytest.raises(PermissionDenied, match="fills no stage"):
        org.approve(post, "gina@example.org")  # propriety: only for pre-election posts


def test_a_tag_adds_its_stage_and_who_may_fill_it(org: Org) -> None:
    _staged(org)
    post = org.submitted()
    assert post.id is not None
    set_tags(
        org.session,
        actor=org.person("alice@example.org"),
        post_id=post.id,
        add=["Pre-Election"],
        remove=[],
        now=org.clock.now(),
    )
    status = org.approve(post, "bob@example.org", "dana@example.org")
    assert not status.met
    propriety = status.stages[-1]
    assert (propriety.name, propriety.why, propriety.eligible) == (
        "propriety",
        "tag pre-election",
        ["gina@example.org"],
    )
    assert org.approve(post, "gina@example.org").met


def test_tags_cannot_change_once_a_post_is_approved(org: Org) -> None:
    _staged(org)
    post = org.submitted()
    org.approve(post, "bob@example.org", "dana@example.org")
    assert post.id is not None
    with pytest.raises(IllegalTransition, match="tags change only before approval"):
        set_tags(
            org.session,
            actor=org.person("alice@example.org"),
            post_id=post.id,
            add=["pre-election"],
            remove=[],
            now=org.clock.now(),
        )


def test_a_policy_finding_adds_an_all_of_stage(org: Org) -> None:
    _staged(org)
    post = org.submitted("Visit our office at SW1A 2AA", account="@DeptHelp")
    status = org.approve(post, "bob@example.org", "gina@example.org")
    legal = next(s for s in status.stages if s.name == "legal-check")
    assert legal.why == "finding personal_data.postcode"
    assert legal.eligible == ["carol@example.org", "dana@example.org"]
    assert not status.met
    org.approve(post, "carol@example.org")
    assert not review.quorum(org.session, post, current_map(org.session)).met
    assert org.approve(post, "dana@example.org").met


def test_a_stage_added_by_a_map_reload_holds_an_approved_post_at_publish(org: Org) -> None:
    org.apply(small_config())
    post = org.submitted()
    org.approve(post, "bob@example.org", "carol@example.org")
    assert post.state == PostState.APPROVED
    # Now @DeptNews needs the press lead and all of legal (carol and dana): dana is missing.
    _staged(
        org,
        account={
            "stages": [
                {"name": "press", "role": "press_lead", "need": 1},
                {"name": "legal", "role": "legal", "need": "all"},
            ]
        },
    )
    assert post.id is not None
    claim = start_publishing(org.session, post_id=post.id, worker="w", now=org.clock.now())
    assert not claim.claimed
    assert "legal (all of legal; account rule): 1 of 2" in claim.reasons[0]
    assert post.state == PostState.SUBMITTED


def test_map_explain_lists_every_stage_and_who_may_sign_it(org: Org) -> None:
    _staged(org)
    pmap = current_map(org.session)
    rules = explain_stages(pmap, pmap.account("@DeptHelp"))
    assert [(r.name, r.rule, r.when) for r in rules] == [
        ("approval", "any 2 of the approvers", "always"),
        ("propriety", "any 1 of propriety", "tag pre-election"),
        ("legal-check", "all of legal", "finding personal_data.postcode"),
    ]
    assert rules[2].eligible == ["carol@example.org", "dana@example.org"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"stages": [{"name": "x", "role": "nobody", "need": 1}]}, "unknown role 'nobody'"),
        ({"stages": [{"name": "x", "role": "legal", "need": 3}]}, "only 2 holders of 'legal'"),
        ({"approvals_required": 1}, "either approvals_required or stages"),
        ({"stages": [{"name": "x", "need": 0}]}, "must be at least 1"),
    ],
)
def test_a_stage_nobody_can_fill_is_refused_when_the_map_loads(
    change: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_dict(staged_config(account=change))
    assert problem in str(raised.value)


def test_an_extra_stage_on_an_unknown_rule_is_refused_when_the_map_loads() -> None:
    raw = staged_config()
    raw["extra_stages"][0]["on_findings"] = ["personal_data.shoe_size"]
    with pytest.raises(ConfigError) as raised:
        config_from_dict(raw)
    assert "extra_stages[propriety].on_findings: unknown policy rule" in str(raised.value)
