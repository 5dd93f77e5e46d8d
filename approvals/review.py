"""Approvers' decisions and the quorum rule (DESIGN invariant 1).

An approval counts only if it is for the post's current revision, by someone who is not an
author of the post and who holds approve rights on the account *now*: the quorum is always
recomputed against the map in force, never cached.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from approvals import audit
from approvals.config import Action
from approvals.errors import (
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Refused,
    StaleRevision,
)
from approvals.hidden_text import refuse_control_characters
from approvals.map_store import current_map
from approvals.models import Approval, Decision, Person, Post, PostState, Revision
from approvals.permissions import PermissionMap
from approvals.posts import account_of, authors_of, current_revision
from approvals.workflow import REVIEWABLE, lock_post, move

MIN_HASH_PREFIX = 8


@dataclass(frozen=True)
class Quorum:
    required: int
    approvers: list[str]  # e-mails of approvals that count
    lapsed: list[str]  # approvals of this revision that no longer count, and why

    @property
    def met(self) -> bool:
        return len(self.approvers) >= self.required


def quorum(session: Session, post: Post, pmap: PermissionMap) -> Quorum:
    account = account_of(session, post)
    revision = current_revision(session, post)
    authors = authors_of(session, post)
    rows = session.exec(
        select(Approval, Person)
        .join(Person, Person.id == Approval.person_id)  # type: ignore[arg-type]
        .where(Approval.revision_id == revision.id, Approval.decision == Decision.APPROVE)
    ).all()
    counted: list[str] = []
    lapsed: list[str] = []
    for _approval, person in rows:
        if person.id in authors:
            lapsed.append(f"{person.email} is an author")
        elif not person.active or not pmap.can(person.email, Action.APPROVE, account.handle):
            lapsed.append(f"{person.email} no longer may approve on {account.handle}")
        elif person.email not in counted:
            counted.append(person.email)
    return Quorum(required=account.approvals_required, approvers=counted, lapsed=lapsed)


def _resolve_revision(session: Session, post: Post, revision_hash: str) -> Revision:
    current = current_revision(session, post)
    given = revision_hash.strip().lower()
    if len(given) < MIN_HASH_PREFIX:
        raise InvalidInput(f"give at least {MIN_HASH_PREFIX} characters of the revision hash")
    if not current.content_hash.startswith(given):
        raise StaleRevision(
            f"post {post.id} has changed since revision {given[:12]}; "
            f"review the current revision {current.content_hash[:12]} (revision {current.number})"
        )
    return current


def _check_reviewer(session: Session, post: Post, actor: Person, pmap: PermissionMap) -> None:
    account = account_of(session, post)
    if actor.id in authors_of(session, post):
        raise PermissionDenied(f"{actor.email} wrote post {post.id} and may not review it")
    pmap.require(actor.email, Action.APPROVE, account.handle)
    if post.state not in REVIEWABLE:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; it is not awaiting review")


def may_decide(session: Session, *, actor: Person, post_id: int, revision_hash: str) -> None:
    """Refuse now, as `approve` or `reject` would, a decision `actor` may not make on that
    revision: for doors that ask for more before deciding (Slack's reject modal asks for a
    reason). Reads only; the decision itself checks everything again."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"post {post_id} does not exist")
    _check_reviewer(session, post, actor, current_map(session))
    _resolve_revision(session, post, revision_hash)


def approve(
    session: Session,
    *,
    actor: Person,
    post_id: int,
    revision_hash: str,
    now: datetime,
    via: str = "cli",
) -> Quorum:
    post = lock_post(session, post_id)
    pmap = current_map(session)
    _check_reviewer(session, post, actor, pmap)
    revision = _resolve_revision(session, post, revision_hash)
    existing = session.exec(
        select(Approval).where(Approval.revision_id == revision.id, Approval.person_id == actor.id)
    ).first()
    if existing is not None:
        raise Refused(
            f"{actor.email} already decided on revision {revision.number} of post {post.id} "
            f"({existing.decision.value})"
        )
    if post.state != PostState.SUBMITTED:
        raise IllegalTransition(f"post {post.id} is already {post.state.value}")
    assert post.id is not None and revision.id is not None and actor.id is not None
    session.add(
        Approval(
            post_id=post.id,
            revision_id=revision.id,
            person_id=actor.id,
            decision=Decision.APPROVE,
            via=via,
            created_at=now,
        )
    )
    session.flush()
    status = quorum(session, post, pmap)
    audit.record(
        session,
        actor=actor.email,
        action="approval.approve",
        subject=f"post:{post.id}",
        at=now,
        details={
            "revision": revision.number,
            "hash": revision.content_hash,
            "via": via,
            "counted": len(status.approvers),
            "required": status.required,
        },
    )
    if status.met:
        target = PostState.QUEUED if post.scheduled_at is not None else PostState.APPROVED
        move(
            session,
            post,
            target,
            actor=actor.email,
            now=now,
            details={"approvers": status.approvers},
        )
    return status


def reject(
    session: Session,
    *,
    actor: Person,
    post_id: int,
    revision_hash: str,
    reason: str,
    now: datetime,
    via: str = "cli",
) -> Post:
    """Stop the post until its author edits and resubmits it; the reason goes to the author."""
    if not reason.strip():
        raise InvalidInput("say why the post is rejected: the author needs a reason to act on")
    refuse_control_characters(reason, where="the reason")
    post = lock_post(session, post_id)
    pmap = current_map(session)
    _check_reviewer(session, post, actor, pmap)
    revision = _resolve_revision(session, post, revision_hash)
    assert post.id is not None and revision.id is not None and actor.id is not None
    existing = session.exec(
        select(Approval).where(Approval.revision_id == revision.id, Approval.person_id == actor.id)
    ).first()
    if existing is None:
        existing = Approval(
            post_id=post.id,
            revision_id=revision.id,
            person_id=actor.id,
            decision=Decision.REJECT,
            created_at=now,
        )
    # An approver may change their mind: a rejection replaces their own earlier approval.
    existing.decision, existing.reason = Decision.REJECT, reason
    existing.via, existing.created_at = via, now
    session.add(existing)
    audit.record(
        session,
        actor=actor.email,
        action="approval.reject",
        subject=f"post:{post.id}",
        at=now,
        details={
            "revision": revision.number,
            "hash": revision.content_hash,
            "via": via,
            "reason": reason,
        },
    )
    move(session, post, PostState.REJECTED, actor=actor.email, now=now, reason=reason)
    return post
