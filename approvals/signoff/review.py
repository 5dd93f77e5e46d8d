"""Approvers' decisions and the quorum rule (DESIGN invariant 1).

An approval counts only if it is for the post's current revision, by someone who is not an
author of the post and who holds approve rights on the account *now*: the quorum is always
recomputed against the map in force, never cached.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from approvals.config import AccountConfig, Action
from approvals.content.reasons import check_reason
from approvals.errors import (
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Refused,
    StaleRevision,
)
from approvals.map_store import current_map
from approvals.models import Approval, Decision, Person, Post, PostState, Revision
from approvals.permissions import PermissionMap
from approvals.posts import account_of, authors_of, current_revision, policy_report
from approvals.records import audit
from approvals.signoff.stages import StageStatus, eligible_for, fill, required_stages
from approvals.workflow import REVIEWABLE, lock_post, move

MIN_HASH_PREFIX = 8


@dataclass(frozen=True)
class Quorum:
    required: int  # places to fill over every stage
    approvers: list[str]  # e-mails of approvals that count
    lapsed: list[str]  # approvals of this revision that no longer count, and why
    stages: list[StageStatus] = field(default_factory=list)

    @property
    def met(self) -> bool:
        if self.stages:
            return all(s.met for s in self.stages)
        return len(self.approvers) >= self.required

    def shortfall(self) -> str:
        """What is still missing, in words for the author and the approvers."""
        missing = [s.describe() for s in self.stages if not s.met]
        return "; ".join(missing) if missing else "every stage is signed"


def quorum(
    session: Session, post: Post, pmap: PermissionMap, *, now: datetime | None = None
) -> Quorum:
    """Which approvals of the current revision count and whether every stage is filled.

    Everything is taken from the map in force: the stages (with those the post's findings
    and tags add), who may fill them, and how old an approval may be. With `now`, approvals
    older than the account's `approval_max_age_hours` no longer count.
    """
    account = account_of(session, post)
    declared = pmap.config.account(account.handle)
    revision = current_revision(session, post)
    authors = authors_of(session, post)
    rows = session.exec(
        select(Approval, Person)
        .join(Person, Person.id == Approval.person_id)  # type: ignore[arg-type]
        .where(Approval.revision_id == revision.id, Approval.decision == Decision.APPROVE)
        .order_by(col(Approval.created_at), col(Approval.id))
    ).all()
    if declared is None or declared.kind != "corporate":
        gone = [f"{person.email}: {account.handle} is not in the map" for _a, person in rows]
        return Quorum(required=account.approvals_required, approvers=[], lapsed=gone)
    stages = required_stages(
        pmap.config,
        declared,
        findings={f.rule for f in policy_report(session, post).findings},
        tags=post.tags or [],
    )
    candidates = _candidates(session, pmap, authors)
    stand_ins = _deputies(pmap, declared) if post.escalation_level >= 1 else frozenset()
    eligible = [
        eligible_for(s, pmap, declared, candidates=candidates, stand_ins=stand_ins) for s in stages
    ]
    anyone = {email for people in eligible for email in people}
    max_age = declared.approval_max_age_hours
    valid: list[str] = []
    lapsed: list[str] = []
    for approval, person in rows:
        if person.id in authors:
            lapsed.append(f"{person.email} is an author")
        elif not person.active or not pmap.can(person.email, Action.APPROVE, account.handle):
            lapsed.append(f"{person.email} no longer may approve on {account.handle}")
        elif now is not None and max_age is not None and expired(approval, max_age, now):
            lapsed.append(
                f"{person.email}'s approval of {approval.created_at:%Y-%m-%d %H:%M} UTC has "
                f"expired (approvals on {account.handle} last {max_age:g} hours)"
            )
        elif person.email not in anyone:
            lapsed.append(f"{person.email} holds no role a stage of this post needs")
        elif person.email not in valid:
            valid.append(person.email)
    filled = fill(stages, eligible, valid)
    required = sum(s.places for s in filled)
    return Quorum(required=required, approvers=valid, lapsed=lapsed, stages=filled)


def expired(approval: Approval, max_age_hours: float, now: datetime) -> bool:
    """An approval lasts `max_age_hours` from when it was given; at that instant it lapses."""
    return now >= approval.created_at + timedelta(hours=max_age_hours)


def _candidates(session: Session, pmap: PermissionMap, authors: set[int]) -> list[str]:
    """Everyone in the map who is active in the database and not an author, in map order."""
    # Two columns, not whole rows: every claim and every notice about approvals asks this
    # (500 people on SQLite: 1.3 ms, where loading each as a Person took 11 ms).
    rows = session.exec(select(Person.email, Person.id).where(col(Person.active))).all()
    active = dict(rows)
    return [
        p.email for p in pmap.config.people if p.email in active and active[p.email] not in authors
    ]


def _deputies(pmap: PermissionMap, account: AccountConfig) -> frozenset[str]:
    if account.deputy_role is None:
        return frozenset()
    return frozenset(p.email for p in pmap.config.people if account.deputy_role in p.roles)


def _stage_for(status: Quorum, email: str) -> str | None:
    """The first stage, in order, that `email` may fill and that still needs someone; else
    the first they may fill at all (an extra approval is harmless); None if none."""
    mine = [s for s in status.stages if email in s.eligible]
    open_ = [s for s in mine if not s.met]
    chosen = open_ or mine
    return chosen[0].name if chosen else None


def _is_expired(
    session: Session, post: Post, pmap: PermissionMap, approval: Approval, now: datetime
) -> bool:
    declared = pmap.config.account(account_of(session, post).handle)
    if approval.decision != Decision.APPROVE or declared is None:
        return False
    max_age = declared.approval_max_age_hours
    return max_age is not None and expired(approval, max_age, now)


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
    before = quorum(session, post, pmap, now=now)
    stage = _stage_for(before, actor.email)
    if stage is None:
        raise PermissionDenied(
            f"{actor.email} may approve on {account_of(session, post).handle} but fills no "
            f"stage post {post.id} needs ({before.shortfall()})"
        )
    existing = session.exec(
        select(Approval).where(Approval.revision_id == revision.id, Approval.person_id == actor.id)
    ).first()
    renewed = (
        existing is not None
        and actor.email not in before.approvers
        and _is_expired(session, post, pmap, existing, now)
    )
    if existing is not None and not renewed:
        raise Refused(
            f"{actor.email} already decided on revision {revision.number} of post {post.id} "
            f"({existing.decision.value})"
        )
    if post.state != PostState.SUBMITTED:
        raise IllegalTransition(f"post {post.id} is already {post.state.value}")
    assert post.id is not None and revision.id is not None and actor.id is not None
    declared = pmap.config.account(account_of(session, post).handle)
    max_age = declared.approval_max_age_hours if declared else None
    row = existing or Approval(
        post_id=post.id,
        revision_id=revision.id,
        person_id=actor.id,
        decision=Decision.APPROVE,
        created_at=now,
    )
    # An expired approval is given again: the same row, renewed, so one person counts once.
    row.stage, row.via, row.created_at = stage, via, now
    row.expires_at = now + timedelta(hours=max_age) if max_age is not None else None
    session.add(row)
    session.flush()
    status = quorum(session, post, pmap, now=now)
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
            "stage": stage,
            **({"renewed": True} if renewed else {}),
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
    reason = check_reason(reason, what="the reason for the rejection")
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
