"""Drafting posts: revisions, their content hash, editing, submitting, scheduling, withdrawing.

A revision is immutable. Its hash covers the account and, for every part of a thread, the
text and each image with its alt text: exactly what would reach X. Approvals point at one
revision, so any edit (a new revision) leaves them behind.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import inspect
from sqlmodel import Session, col, select

from approvals.analytics.models import RevisionFinding
from approvals.config import Action
from approvals.content import images, policy
from approvals.content.hidden_text import refuse_control_characters
from approvals.content.images import CheckedImage
from approvals.content.reasons import check_reason
from approvals.db import transaction_memo
from approvals.errors import IllegalTransition, InvalidInput, PermissionDenied, Refused
from approvals.map_store import current_map, get_account
from approvals.models import Account, MediaAsset, Person, Post, PostState, Revision, RevisionPart
from approvals.records import audit
from approvals.records.audit import canonical_json

# Re-exported: the thread limits live with the thread's shape (`approvals.threads`).
from approvals.threads import MAX_PART_CHARS as MAX_PART_CHARS
from approvals.threads import MAX_PARTS as MAX_PARTS
from approvals.threads import MAX_THREAD_CHARS as MAX_THREAD_CHARS
from approvals.threads import check_part_count as check_part_count
from approvals.workflow import AFTER_EDIT, EDITABLE, WITHDRAWABLE, lock_post, move

MAX_MEDIA_PER_PART = 4
MAX_ALT_TEXT = 1000  # X's limit for an image description


@dataclass(frozen=True)
class MediaRef:
    sha256: str
    alt_text: str | None = None


@dataclass(frozen=True)
class PartInput:
    text: str
    media: list[MediaRef] = field(default_factory=list)


def content_hash(account_key: str, parts: list[PartInput]) -> str:
    document = {
        "account": account_key,
        "parts": [
            {
                "text": p.text,
                "media": [{"sha256": m.sha256, "alt_text": m.alt_text} for m in p.media],
            }
            for p in parts
        ],
    }
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def store_media(session: Session, *, image: CheckedImage, now: datetime) -> MediaAsset:
    """Keep an image that `images.check_image` decoded, with the type Pillow found in it. It
    takes nothing else, so no undecoded bytes reach an approver; decode before the write
    transaction opens, since decoding is slow."""
    asset = session.get(MediaAsset, image.sha256)
    if asset is None:
        asset = MediaAsset(
            sha256=image.sha256,
            content_type=image.content_type,
            size=len(image.data),
            data=image.data,
            created_at=now,
        )
        session.add(asset)
        session.flush()
    return asset


def _check_parts(session: Session, parts: list[PartInput]) -> None:
    check_part_count(len(parts))
    for number, part in enumerate(parts, start=1):
        where = f"part {number}" if len(parts) > 1 else "the post"
        if len(part.text) > MAX_PART_CHARS:
            raise InvalidInput(
                f"{where} has {len(part.text):,} characters; at most {MAX_PART_CHARS:,} "
                "can be drafted"
            )
        refuse_control_characters(part.text, where=where)
        if not part.text.strip() and not part.media:
            raise InvalidInput(f"{where} is empty: give it text or an image")
        if len(part.media) > MAX_MEDIA_PER_PART:
            raise InvalidInput(f"{where} has {len(part.media)} images; X allows at most 4")
        assets: list[MediaAsset] = []
        for position, ref in enumerate(part.media, start=1):
            asset = session.get(MediaAsset, ref.sha256)
            if asset is None:
                raise InvalidInput(f"{where}: image {ref.sha256[:12]} has not been uploaded")
            assets.append(asset)
            if ref.alt_text is not None:
                if len(ref.alt_text) > MAX_ALT_TEXT:
                    raise InvalidInput(
                        f"{where}: alt text is longer than {MAX_ALT_TEXT} characters"
                    )
                refuse_control_characters(ref.alt_text, where=f"{where}, alt text {position}")
        if len(assets) > 1 and any(_animated_gif(asset) for asset in assets):
            raise InvalidInput(f"{where}: an animated GIF must be the only image in its post on X")


def _animated_gif(asset: MediaAsset) -> bool:
    return asset.content_type == "image/gif" and images.is_animated(asset.data)


def _add_revision(
    session: Session,
    post: Post,
    account: Account,
    parts: list[PartInput],
    *,
    by: Person,
    now: datetime,
) -> Revision:
    assert post.id is not None and by.id is not None
    revision = Revision(
        post_id=post.id,
        number=post.revision_no,
        content_hash=content_hash(account.key, parts),
        created_by_id=by.id,
        created_at=now,
    )
    session.add(revision)
    session.flush()
    assert revision.id is not None
    for position, part in enumerate(parts):
        session.add(
            RevisionPart(
                revision_id=revision.id,
                position=position,
                text=part.text,
                media=[{"sha256": m.sha256, "alt_text": m.alt_text} for m in part.media],
            )
        )
    session.flush()
    return revision


def _require_corporate(account: Account) -> None:
    if account.kind != "corporate":
        raise Refused(
            f"{account.handle} is a personal account: pressgate never posts to personal "
            "accounts (see `pressgate guidance` for personal use)"
        )


def create_draft(
    session: Session,
    *,
    actor: Person,
    account_handle: str,
    parts: list[PartInput],
    now: datetime,
    scheduled_at: datetime | None = None,
    campaign: str | None = None,
    template: str | None = None,
) -> Post:
    """A new post in draft. `campaign` and `template` tag it for analytics (which campaign
    it serves, which template its words came from)."""
    account = get_account(session, account_handle)
    _require_corporate(account)
    current_map(session).require(actor.email, Action.DRAFT, account.handle)
    _check_parts(session, parts)
    parts = _tagged(session, parts)
    if scheduled_at is not None and scheduled_at <= now:
        raise InvalidInput("the scheduled time is in the past; give a future time")
    assert account.id is not None and actor.id is not None
    post = Post(
        account_id=account.id,
        author_id=actor.id,
        timezone=account.timezone,
        scheduled_at=scheduled_at,
        created_at=now,
        updated_at=now,
        campaign=campaign,
        template=template,
    )
    session.add(post)
    session.flush()
    revision = _add_revision(session, post, account, parts, by=actor, now=now)
    _log_findings(session, post, now)
    audit.record(
        session,
        actor=actor.email,
        action="post.draft",
        subject=f"post:{post.id}",
        at=now,
        details={
            "account": account.handle,
            "revision": revision.number,
            "hash": revision.content_hash,
            "scheduled_at": scheduled_at.isoformat() if scheduled_at else None,
            **({"campaign": campaign} if campaign else {}),
            **({"template": template} if template else {}),
        },
    )
    return post


def edit(
    session: Session,
    *,
    actor: Person,
    post_id: int,
    parts: list[PartInput],
    now: datetime,
    expected_hash: str | None = None,
) -> Post:
    """Replace the words with a new revision; every approval of earlier words stops counting."""
    post = lock_post(session, post_id)
    account = account_of(session, post)
    current_map(session).require(actor.email, Action.DRAFT, account.handle)
    if post.state not in EDITABLE:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; it can no longer be edited")
    old = current_revision(session, post)
    if expected_hash is not None and not old.content_hash.startswith(expected_hash):
        raise Refused(f"post {post.id} was changed by someone else since you opened it; reload it")
    _check_parts(session, parts)
    parts = _tagged(session, parts)
    if content_hash(account.key, parts) == old.content_hash:
        raise InvalidInput(f"post {post.id}: the new text is the same as the current revision")
    post.revision_no += 1
    # New words are a fresh start for publishing: the errors counted so far, and where a
    # reconcile starts its search, belonged to words that will not go out.
    post.attempts, post.publish_started_at = 0, None
    revision = _add_revision(session, post, account, parts, by=actor, now=now)
    _log_findings(session, post, now)
    audit.record(
        session,
        actor=actor.email,
        action="post.edit",
        subject=f"post:{post.id}",
        at=now,
        details={
            "revision": revision.number,
            "hash": revision.content_hash,
            "previous": old.content_hash,
        },
    )
    target, reason = AFTER_EDIT[post.state], "edited"
    if target == PostState.SUBMITTED:
        blocking = policy_report(session, post).blocking
        if blocking:  # an edit in review is a resubmission: the same gate applies
            target = PostState.DRAFT
            reason = "edited; back to draft until its blocking policy findings are fixed: "
            reason += "; ".join(policy.describe(f) for f in blocking)
    move(session, post, target, actor=actor.email, now=now, reason=reason)
    return post


def submit(session: Session, *, actor: Person, post_id: int, now: datetime) -> Post:
    post = lock_post(session, post_id)
    account = account_of(session, post)
    current_map(session).require(actor.email, Action.SUBMIT, account.handle)
    if post.state != PostState.DRAFT:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; only drafts are submitted")
    if post.scheduled_at is not None and post.scheduled_at <= now:
        raise InvalidInput(f"post {post.id} is scheduled in the past; reschedule it first")
    blocking = policy_report(session, post).blocking
    if blocking:
        raise Refused(
            f"post {post.id} cannot be submitted until its blocking policy findings are fixed: "
            + "; ".join(policy.describe(f) for f in blocking)
        )
    move(session, post, PostState.SUBMITTED, actor=actor.email, now=now)
    return post


def policy_report(session: Session, post: Post) -> policy.Report:
    """The post's current words checked against the policy of the map in force.

    A claim asks twice (the quorum's stages depend on the findings, and the findings may
    block): within one transaction the same words under the same map are checked once.
    """
    revision = current_revision(session, post)
    config = current_map(session).config
    memo = transaction_memo(session, _REPORTS)
    key = (revision.id, revision.content_hash, id(config))
    if key not in memo:
        to_check = [
            policy.PartToCheck(p.text, tuple(m.get("alt_text") for m in p.media))
            for p in revision_parts(session, revision)
        ]
        memo[key] = policy.check_config(to_check, config)
    return memo[key]  # type: ignore[no-any-return]


_REPORTS = "pressgate.policy_reports"  # transaction memo: (revision, words, map) -> report


def _log_findings(session: Session, post: Post, now: datetime) -> None:
    """Each revision's findings, kept for the governance figures (findings by rule)."""
    assert post.id is not None
    for finding in policy_report(session, post).findings:
        session.add(
            RevisionFinding(
                post_id=post.id,
                revision_no=post.revision_no,
                rule=finding.rule,
                severity=finding.severity,
                found_at=now,
            )
        )


def _tagged(session: Session, parts: list[PartInput]) -> list[PartInput]:
    """Campaign tags go on links when drafted, so approvers sign off the links as posted."""
    utm = current_map(session).config.policy.utm
    if utm is None:
        return parts
    return [PartInput(policy.tag_links(p.text, utm), p.media) for p in parts]


def withdraw(
    session: Session, *, actor: Person, post_id: int, now: datetime, reason: str | None = None
) -> Post:
    if reason is not None:
        reason = check_reason(reason, what="the reason for withdrawing") or None
    post = lock_post(session, post_id)
    account = account_of(session, post)
    pmap = current_map(session)
    is_author = actor.id == post.author_id and pmap.can(actor.email, Action.DRAFT, account.handle)
    if not (is_author or pmap.can(actor.email, Action.MANAGE, account.handle)):
        raise PermissionDenied(
            f"{actor.email} may not withdraw post {post.id}: only its author or a manager of "
            f"{account.handle} may"
        )
    if post.state not in WITHDRAWABLE:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; it cannot be withdrawn")
    move(
        session, post, PostState.WITHDRAWN, actor=actor.email, now=now, reason=reason or "withdrawn"
    )
    return post


def schedule(
    session: Session, *, actor: Person, post_id: int, when: datetime | None, now: datetime
) -> Post:
    """Set or clear the publishing time. The words are unchanged, so approvals stand."""
    post = lock_post(session, post_id)
    account = account_of(session, post)
    current_map(session).require(actor.email, Action.DRAFT, account.handle)
    if when is not None and when <= now:
        raise InvalidInput("the scheduled time is in the past; give a future time")
    if post.state not in EDITABLE:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; it cannot be rescheduled")
    before = post.scheduled_at
    post.scheduled_at = when
    post.updated_at = now
    session.add(post)
    audit.record(
        session,
        actor=actor.email,
        action="post.schedule",
        subject=f"post:{post.id}",
        at=now,
        details={
            "from": before.isoformat() if before else None,
            "to": when.isoformat() if when else None,
        },
    )
    if post.state == PostState.APPROVED and when is not None:
        move(session, post, PostState.QUEUED, actor=actor.email, now=now)
    elif post.state == PostState.QUEUED and when is None:
        move(session, post, PostState.APPROVED, actor=actor.email, now=now, reason="unscheduled")
    return post


def current_revision(session: Session, post: Post) -> Revision:
    """The post's current revision. A claim asks four times (the quorum, the policy, the
    claim itself); within one transaction the row found first is kept. A revision is never
    changed once written, and a new one has a new number, so the memo cannot go stale; a
    revision rolled back with a savepoint is no longer persistent and is looked up again."""
    memo = transaction_memo(session, _REVISIONS)
    key = (post.id, post.revision_no)
    kept: Revision | None = memo.get(key)
    if kept is not None and inspect(kept).persistent:
        return kept
    revision = session.exec(
        select(Revision).where(Revision.post_id == post.id, Revision.number == post.revision_no)
    ).one()
    memo[key] = revision
    return revision


_REVISIONS = "pressgate.current_revisions"  # transaction memo: (post, number) -> revision


def revision_parts(session: Session, revision: Revision) -> list[RevisionPart]:
    return list(
        session.exec(
            select(RevisionPart)
            .where(RevisionPart.revision_id == revision.id)
            .order_by(col(RevisionPart.position))
        ).all()
    )


def authors_of(session: Session, post: Post) -> set[int]:
    """Everyone who wrote any revision: none of them may approve it."""
    ids = set(session.exec(select(Revision.created_by_id).where(Revision.post_id == post.id)).all())
    ids.add(post.author_id)
    return ids


def account_of(session: Session, post: Post) -> Account:
    """The post's account. The session's identity map holds rows weakly, so an account
    nobody holds on to is read again at the next `get`; it is held until the transaction
    ends, which spares the claim and the notices written with it a query each."""
    account = session.get(Account, post.account_id)
    assert account is not None
    transaction_memo(session, _ACCOUNTS)[account.id] = account
    return account


_ACCOUNTS = "pressgate.accounts_held"  # transaction memo: account id -> row, held
