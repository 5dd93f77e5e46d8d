"""Review-link tokens: bound to one post, revision and approver, expiring, signed with a key
of their own; a decision with one is its approver's only, and happens once."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from approvals.errors import LinkSpent, NotFound, PermissionDenied, Refused
from approvals.keys import derive_key
from approvals.models import Decision, ReviewLinkUse
from approvals.signoff.review_links import LABEL, LinkSigner, decide, prune_spent
from tests.factories import Org

SECRET = "a-secret-key-for-review-link-tests-0123456789"
DAY = timedelta(hours=24)


def signer(hours: float = 48) -> LinkSigner:
    return LinkSigner.from_secret(SECRET, hours=hours)


def test_a_token_reads_back_as_what_it_was_issued_for(org: Org) -> None:
    now = org.clock.now()
    token = signer().issue(post_id=7, revision_hash="ab" * 32, approver_id=3, now=now)
    link = signer().read(token, now=now)
    assert (link.post_id, link.approver_id, link.revision_hash) == (7, 3, "ab" * 32)
    assert link.expires_at == (now + 2 * DAY).replace(microsecond=0)
    assert len(token) < 200 and all(c.isalnum() or c in "._-" for c in token)


def test_two_tokens_for_the_same_decision_differ(org: Org) -> None:
    now = org.clock.now()
    issue = {"post_id": 7, "revision_hash": "ab" * 32, "approver_id": 3, "now": now}
    first, second = signer().issue(**issue), signer().issue(**issue)  # type: ignore[arg-type]
    assert first != second
    assert signer().read(first, now=now).token_id != signer().read(second, now=now).token_id


@pytest.mark.parametrize("field", [1, 2, 3, 4, 5])
def test_changing_any_field_breaks_the_signature(org: Org, field: int) -> None:
    now = org.clock.now()
    token = signer().issue(post_id=7, revision_hash="ab" * 32, approver_id=3, now=now)
    pieces = token.split(".")
    pieces[field] = {1: "8", 2: "4", 3: str(int(pieces[3]) + 3600), 4: "cd" * 32}.get(
        field, "A" * 22
    )
    with pytest.raises(NotFound, match="not valid"):
        signer().read(".".join(pieces), now=now)


def test_a_token_from_another_key_or_label_is_not_valid(org: Org) -> None:
    now = org.clock.now()
    issue = {"post_id": 7, "revision_hash": "ab" * 32, "approver_id": 3, "now": now}
    other_secret = LinkSigner.from_secret(SECRET + "x").issue(**issue)  # type: ignore[arg-type]
    session_key = derive_key(SECRET, b"pressgate web sessions v1")
    other_label = LinkSigner(session_key, lifetime=DAY).issue(**issue)  # type: ignore[arg-type]
    assert derive_key(SECRET, LABEL) != session_key
    for token in (other_secret, other_label):
        with pytest.raises(NotFound):
            signer().read(token, now=now)


def test_a_token_stops_working_when_it_expires(org: Org) -> None:
    now = org.clock.now().replace(microsecond=0)
    token = signer(hours=1).issue(post_id=7, revision_hash="ab" * 32, approver_id=3, now=now)
    signer().read(token, now=now + timedelta(minutes=59, seconds=59))
    with pytest.raises(LinkSpent, match="expired at"):
        signer().read(token, now=now + timedelta(hours=1))


def test_a_link_decides_once_and_only_for_its_approver(org: Org, session: Session) -> None:
    post = org.submitted()
    session.commit()
    assert post.id is not None
    bob, carol = org.person("bob@example.org"), org.person("carol@example.org")
    now = org.clock.now()
    assert bob.id is not None
    token = signer().issue(
        post_id=post.id, revision_hash=org.current_hash(post), approver_id=bob.id, now=now
    )
    link = signer().read(token, now=now)
    with pytest.raises(PermissionDenied, match="made for another approver"):
        decide(session, link=link, actor=carol, decision=Decision.APPROVE, now=now)
    quorum = decide(session, link=link, actor=bob, decision=Decision.APPROVE, now=now)
    assert quorum is not None and quorum.approvers == ["bob@example.org"]
    session.commit()
    with pytest.raises(LinkSpent, match="already been used"):
        decide(session, link=link, actor=bob, decision=Decision.REJECT, now=now, reason="No")
    session.rollback()
    used = session.exec(select(ReviewLinkUse)).all()
    assert [(u.token_id, u.person_id, u.decision) for u in used] == [
        (link.token_id, bob.id, Decision.APPROVE)
    ]
    # A second token for the same decision is a second link: the review service refuses it.
    again = replace(link, token_id="B" * 22)
    with pytest.raises(Refused, match="already decided"):
        decide(session, link=again, actor=bob, decision=Decision.APPROVE, now=now)


def test_a_spent_link_is_forgotten_once_it_has_expired_and_not_a_second_before(
    org: Org, session: Session
) -> None:
    post = org.submitted()
    session.commit()
    assert post.id is not None
    bob = org.person("bob@example.org")
    now = org.clock.now()
    assert bob.id is not None
    token = signer(hours=1).issue(
        post_id=post.id, revision_hash=org.current_hash(post), approver_id=bob.id, now=now
    )
    link = signer(hours=1).read(token, now=now)
    decide(session, link=link, actor=bob, decision=Decision.APPROVE, now=now)
    session.commit()
    assert prune_spent(session, now=link.expires_at - timedelta(seconds=1)) == 0
    assert len(session.exec(select(ReviewLinkUse)).all()) == 1, "still guards its link"
    assert prune_spent(session, now=link.expires_at) == 1
    session.commit()
    assert session.exec(select(ReviewLinkUse)).all() == []
    with pytest.raises(Refused, match="expired"):  # and the link itself is refused anyway
        signer(hours=1).read(token, now=link.expires_at)
