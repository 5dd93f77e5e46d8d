"""Signed review links: `/a/{token}`, sent to each approver in their Slack DM.

A link names one post, one revision of it (its content hash) and one approver, and stops
working after a set time (48 hours by default). It is signed (HMAC-SHA256) with a key
derived from the secret key under a label of its own, so nobody without the key can make
one or change what it names. Opening it decides nothing (Slack's unfurler and mail scanners
fetch links). A decision made with it goes to the same services as every other door
(`review.approve`, `review.reject`: the map, the author rule and the revision are checked
as always) and the link is recorded as used in the same transaction, so it decides once.

A token reads `1.{post}.{approver}.{expires}.{hash}.{id}.{signature}`: the format version,
the post id, the approver's person id, the expiry (Unix seconds), the revision's content
hash, a random id (what the table of used links keeps) and the signature over everything
before it. Every character is URL-safe, so a token goes into a path as it is.
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from approvals.errors import LinkSpent, NotFound, PermissionDenied
from approvals.keys import derive_key
from approvals.models import Decision, Person, Post, ReviewLinkUse, Revision
from approvals.posts import current_revision
from approvals.signoff import review
from approvals.workflow import lock_post

LABEL = b"pressgate review links v1"
DEFAULT_HOURS = 48
VIA = "link"  # the door a decision made with a link is recorded as having come through
MAX_TOKEN_CHARS = 200
_TOKEN = re.compile(
    r"1\.(?P<post>[1-9][0-9]{0,9})\.(?P<approver>[1-9][0-9]{0,9})\.(?P<expires>[0-9]{1,11})"
    r"\.(?P<hash>[0-9a-f]{64})\.(?P<id>[A-Za-z0-9_-]{22})\.(?P<signature>[A-Za-z0-9_-]{43})"
)
NOT_VALID = (
    "this review link is not valid (it may have been cut short when it was copied); "
    "open the post from pressgate's home page instead"
)


@dataclass(frozen=True)
class ReviewLink:
    """What a genuine, unexpired token names."""

    token_id: str
    post_id: int
    approver_id: int
    revision_hash: str
    expires_at: datetime


class LinkSigner:
    """Makes and reads review links with one key and one lifetime."""

    def __init__(self, key: bytes, *, lifetime: timedelta) -> None:
        self._key = key
        self.lifetime = lifetime

    @classmethod
    def from_secret(cls, secret_key: str, *, hours: float = DEFAULT_HOURS) -> "LinkSigner":
        return cls(derive_key(secret_key, LABEL), lifetime=timedelta(hours=hours))

    def issue(self, *, post_id: int, revision_hash: str, approver_id: int, now: datetime) -> str:
        """A token for `approver_id` to decide on that revision of the post, until it expires."""
        expires = int((now + self.lifetime).timestamp())
        token_id = secrets.token_urlsafe(16)
        payload = f"1.{post_id}.{approver_id}.{expires}.{revision_hash}.{token_id}"
        return f"{payload}.{self._sign(payload)}"

    def read(self, token: str, *, now: datetime) -> ReviewLink:
        """The link a token names: NotFound if it is not one of ours, LinkSpent once expired."""
        match = _TOKEN.fullmatch(token) if len(token) <= MAX_TOKEN_CHARS else None
        if match is None:
            raise NotFound(NOT_VALID)
        payload, signature = token.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(payload), signature):
            raise NotFound(NOT_VALID)
        link = ReviewLink(
            token_id=match["id"],
            post_id=int(match["post"]),
            approver_id=int(match["approver"]),
            revision_hash=match["hash"],
            expires_at=datetime.fromtimestamp(int(match["expires"]), UTC),
        )
        if now >= link.expires_at:
            raise LinkSpent(
                f"this review link expired at {link.expires_at:%Y-%m-%d %H:%M} UTC; open the "
                f"post's review page instead: /posts/{link.post_id}/review"
            )
        return link

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def approver_of(session: Session, link: ReviewLink) -> Person:
    """The person the link was made for, while they are in the map in force."""
    person = session.get(Person, link.approver_id)
    if person is None or not person.active:
        raise NotFound("the approver this review link was made for is not in the permission map")
    return person


def why_not(session: Session, link: ReviewLink) -> str | None:
    """Why this link can decide nothing now (used, or the post changed), or None if it can.

    For the page that shows the link: its forms are left out rather than refused later.
    """
    if _used(session, link):
        return (
            "You have already decided with this link, so it decides nothing more. To change "
            "your mind, open the post's review page."
        )
    post = session.get(Post, link.post_id)
    if post is None:
        raise NotFound(f"post {link.post_id} was not found")
    current = current_revision(session, post)
    if current.content_hash != link.revision_hash:
        return (
            f"This link was sent for revision {_number(session, link)}; the post has changed "
            f"since (it is revision {current.number} now), so nothing decided here would count. "
            f"The new revision comes with a link of its own, or open the post's review page."
        )
    return None


def decide(
    session: Session,
    *,
    link: ReviewLink,
    actor: Person,
    decision: Decision,
    now: datetime,
    reason: str = "",
) -> review.Quorum | None:
    """Approve (the quorum after it) or reject (None) with a link: its approver only, once.

    The post's row lock is taken first, so two uses of one link queue there and the second
    finds the first recorded; the unique token id stops them even if something slipped by.
    """
    if actor.id != link.approver_id:
        raise PermissionDenied(
            f"this review link was made for another approver, not {actor.email}: open the "
            "post's review page signed in as yourself"
        )
    lock_post(session, link.post_id)
    if _used(session, link):
        raise LinkSpent(
            "this review link has already been used for a decision; to change your mind, "
            "open the post's review page"
        )
    assert actor.id is not None
    session.add(
        ReviewLinkUse(
            token_id=link.token_id,
            post_id=link.post_id,
            person_id=actor.id,
            revision_hash=link.revision_hash,
            decision=decision,
            used_at=now,
            expires_at=link.expires_at,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise LinkSpent("this review link has already been used for a decision") from None
    post_id, revision_hash = link.post_id, link.revision_hash
    if decision == Decision.APPROVE:
        return review.approve(
            session, actor=actor, post_id=post_id, revision_hash=revision_hash, now=now, via=VIA
        )
    review.reject(
        session,
        actor=actor,
        post_id=post_id,
        revision_hash=revision_hash,
        reason=reason,
        now=now,
        via=VIA,
    )
    return None


def _used(session: Session, link: ReviewLink) -> bool:
    query = select(ReviewLinkUse.id).where(ReviewLinkUse.token_id == link.token_id)
    return session.exec(query).first() is not None


def _number(session: Session, link: ReviewLink) -> int | str:
    query = select(Revision.number).where(
        Revision.post_id == link.post_id, Revision.content_hash == link.revision_hash
    )
    number = session.exec(query).first()
    return number if number is not None else "?"


def prune_spent(session: Session, *, now: datetime) -> int:
    """Forget the links that decided once and have expired since: an expired link is refused
    before its use is looked up, so the row guards nothing more. Returns how many went."""
    spent = session.exec(select(ReviewLinkUse).where(col(ReviewLinkUse.expires_at) <= now)).all()
    for row in spent:
        session.delete(row)
    return len(spent)
