"""The map in force is the newest stored version, for every process at its next transaction
and at once for the transaction that applied it; who a Slack user is: only the `slack_id` of
an active person in the map in force."""

import pytest
from sqlmodel import Session

from approvals.config import Action
from approvals.errors import NotFound
from approvals.map_store import current_map, person_on_slack
from tests.factories import Org, config_from_dict, small_config


def _with_approver(raw: dict[str, object], email: str) -> dict[str, object]:
    people = raw["people"]
    assert isinstance(people, list)
    return {**raw, "people": [*people, {"email": email, "roles": ["approver"]}]}


def test_a_map_applied_in_a_transaction_is_in_force_within_it(org: Org) -> None:
    assert not current_map(org.session).can("fay@example.org", Action.APPROVE, "@DeptHelp")
    org.apply(_with_approver(small_config(), "fay@example.org"))  # no commit yet
    assert current_map(org.session).can("fay@example.org", Action.APPROVE, "@DeptHelp")


def test_a_map_applied_elsewhere_is_in_force_at_the_next_transaction(org: Org) -> None:
    org.session.commit()
    bind = org.session.get_bind()
    with Session(bind) as reader:
        assert not current_map(reader).can("fay@example.org", Action.APPROVE, "@DeptHelp")
        reader.commit()
        org.apply(_with_approver(small_config(), "fay@example.org"))
        org.session.commit()
        pmap = current_map(reader)
        assert pmap.can("fay@example.org", Action.APPROVE, "@DeptHelp")
        assert pmap.config == config_from_dict(_with_approver(small_config(), "fay@example.org"))


def with_slack_ids(**ids: str) -> dict[str, object]:
    raw = small_config()
    for person in raw["people"]:
        name = person["email"].split("@")[0]
        if name in ids:
            person["slack_id"] = ids[name]
    return raw


def test_a_slack_user_is_the_person_the_map_gives_that_id(org: Org) -> None:
    org.apply(with_slack_ids(bob="U0BOB0001", carol="U0CAROL01"))
    assert person_on_slack(org.session, "U0BOB0001").email == "bob@example.org"
    assert person_on_slack(org.session, "U0CAROL01").email == "carol@example.org"


@pytest.mark.parametrize("slack_id", ["U0NOBODY1", "", "u0bob0001"])
def test_anyone_else_is_unknown(org: Org, slack_id: str) -> None:
    org.apply(with_slack_ids(bob="U0BOB0001"))
    with pytest.raises(NotFound, match="pressgate does not know you"):
        person_on_slack(org.session, slack_id)


def test_someone_taken_out_of_the_map_is_unknown_at_once(org: Org) -> None:
    org.apply(with_slack_ids(bob="U0BOB0001"))
    raw = with_slack_ids(bob="U0BOB0001")
    raw["people"] = [p for p in raw["people"] if p["email"] != "bob@example.org"]
    org.apply(raw)
    with pytest.raises(NotFound, match=r"Slack user U0BOB0001"):
        person_on_slack(org.session, "U0BOB0001")


def test_an_id_moved_to_someone_else_names_them(org: Org) -> None:
    org.apply(with_slack_ids(bob="U0BOB0001"))
    org.apply(with_slack_ids(carol="U0BOB0001"))
    assert person_on_slack(org.session, "U0BOB0001").email == "carol@example.org"
