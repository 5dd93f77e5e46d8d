"""Staff consultation on the personal-use guidance, as the policy was made: with the unions,
posted as a draft for staff to comment on.

The policy owner (whoever may `manage` every account, as for `guidance.publish`) opens a
draft, the text the map in force renders, for comments until a date. Any member of staff in
the map comments, named or, in an anonymous consultation, with their name shown to nobody
but the policy owner (the audit entry of an anonymous comment names no one either; the
comment row keeps who wrote it for the owner). A holder of `guidance.union_role` signs the
draft off; the owner answers comments. Publishing makes a new guidance version that records
the consultation, the sign-off and the comments it answered, and asks every member of
staff to acknowledge it: reads of earlier versions do not count for it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from approvals.config import Action
from approvals.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied, Refused
from approvals.map_store import current_map
from approvals.models import Consultation, ConsultationComment, GuidanceVersion, Person
from approvals.permissions import PermissionMap
from approvals.records import audit
from approvals.staff.guidance import content_hash, current_version, read_status, render_guidance

MAX_COMMENT = 4000
ANONYMOUS = "anonymous"


def _owner(pmap: PermissionMap, person: Person) -> bool:
    return pmap.can(person.email, Action.MANAGE)


def _require_owner(pmap: PermissionMap, person: Person) -> None:
    if not _owner(pmap, person):
        raise PermissionDenied(
            f"{person.email} is not the policy owner (it takes the manage right on every account)"
        )


def _staff(pmap: PermissionMap, person: Person) -> None:
    if not person.active:
        raise PermissionDenied(f"{person.email} is not in the permission map")
    pmap.person(person.email)


def get_consultation(session: Session, consultation_id: int) -> Consultation:
    found = session.get(Consultation, consultation_id)
    if found is None:
        raise NotFound(f"consultation {consultation_id} does not exist")
    return found


def open_consultation(session: Session) -> Consultation | None:
    """The consultation not yet published, if any (one at a time)."""
    return session.exec(
        select(Consultation)
        .where(col(Consultation.published_version_id).is_(None))
        .order_by(col(Consultation.id).desc())
    ).first()


def _latest(session: Session) -> Consultation | None:
    return session.exec(select(Consultation).order_by(col(Consultation.id).desc())).first()


def open_draft(
    session: Session, *, actor: Person, closes_at: datetime, anonymous: bool, now: datetime
) -> Consultation:
    """Open the guidance the map in force renders as a draft for comments until `closes_at`."""
    pmap = current_map(session)
    _require_owner(pmap, actor)
    if closes_at <= now:
        raise InvalidInput("the consultation must close in the future")
    if open_consultation(session) is not None:
        raise Refused("a consultation is already open; publish it before opening another")
    text = render_guidance(pmap.config)
    draft = Consultation(
        text=text,
        content_hash=content_hash(text),
        opened_by=actor.email,
        opened_at=now,
        closes_at=closes_at,
        anonymous=anonymous,
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        actor=actor.email,
        action="guidance.consultation_open",
        subject=f"consultation:{draft.id}",
        at=now,
        details={
            "content_hash": draft.content_hash,
            "closes_at": closes_at.isoformat(),
            "anonymous": anonymous,
        },
    )
    return draft


def comment(
    session: Session, *, actor: Person, consultation_id: int, body: str, now: datetime
) -> ConsultationComment:
    """A member of staff comments on the draft while it is open for comments."""
    pmap = current_map(session)
    _staff(pmap, actor)
    text = body.strip()
    if not text:
        raise InvalidInput("the comment is empty")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"keep a comment under {MAX_COMMENT} characters")
    draft = get_consultation(session, consultation_id)
    if draft.published_version_id is not None or now >= draft.closes_at:
        raise IllegalTransition(f"consultation {draft.id} closed for comments")
    assert draft.id is not None and actor.id is not None
    row = ConsultationComment(
        consultation_id=draft.id, person_id=actor.id, body=text, created_at=now
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=ANONYMOUS if draft.anonymous else actor.email,
        action="guidance.comment",
        subject=f"consultation:{draft.id}",
        at=now,
        details={"comment_id": row.id},
    )
    return row


def sign_off(
    session: Session, *, actor: Person, consultation_id: int, now: datetime
) -> Consultation:
    """A union representative signs the draft off, once."""
    pmap = current_map(session)
    role = pmap.config.guidance.union_role
    if role is None:
        raise Refused("the map names no union representative role (guidance.union_role)")
    if role not in pmap.person(actor.email).roles:
        raise PermissionDenied(f"{actor.email} does not hold the {role} role")
    draft = get_consultation(session, consultation_id)
    if draft.published_version_id is not None:
        raise IllegalTransition(f"consultation {draft.id} is already published")
    if draft.signed_off_by is not None:
        raise Refused(f"consultation {draft.id} was signed off by {draft.signed_off_by}")
    draft.signed_off_by, draft.signed_off_at = actor.email, now
    session.add(draft)
    audit.record(
        session,
        actor=actor.email,
        action="guidance.signoff",
        subject=f"consultation:{draft.id}",
        at=now,
        details={"content_hash": draft.content_hash, "role": role},
    )
    return draft


def answer(
    session: Session, *, actor: Person, comment_id: int, text: str, now: datetime
) -> ConsultationComment:
    """The policy owner answers a comment, once, before the version is published."""
    _require_owner(current_map(session), actor)
    reply = text.strip()
    if not reply:
        raise InvalidInput("the answer is empty")
    if len(reply) > MAX_COMMENT:
        raise InvalidInput(f"keep an answer under {MAX_COMMENT} characters")
    row = session.get(ConsultationComment, comment_id)
    if row is None:
        raise NotFound(f"comment {comment_id} does not exist")
    draft = get_consultation(session, row.consultation_id)
    if draft.published_version_id is not None:
        raise IllegalTransition(f"consultation {draft.id} is already published")
    if row.answer is not None:
        raise Refused(f"comment {comment_id} was answered by {row.answered_by}")
    row.answer, row.answered_by, row.answered_at = reply, actor.email, now
    session.add(row)
    audit.record(
        session,
        actor=actor.email,
        action="guidance.answer",
        subject=f"consultation:{draft.id}",
        at=now,
        details={"comment_id": comment_id},
    )
    return row


def publish_consulted(
    session: Session, *, actor: Person, consultation_id: int, now: datetime
) -> GuidanceVersion:
    """Publish the consulted draft as the new guidance version, once comments have closed
    (and, with a union role in the map, once it is signed off); staff are asked to read it."""
    pmap = current_map(session)
    _require_owner(pmap, actor)
    draft = get_consultation(session, consultation_id)
    if draft.published_version_id is not None:
        raise IllegalTransition(f"consultation {draft.id} is already published")
    if now < draft.closes_at:
        raise Refused(
            f"consultation {draft.id} is open for comments until "
            f"{draft.closes_at:%Y-%m-%d %H:%M} UTC"
        )
    if pmap.config.guidance.union_role is not None and draft.signed_off_by is None:
        raise Refused(f"consultation {draft.id} is not signed off by a union representative")
    answered = [c.id for c in comments_of(session, draft) if c.answer is not None and c.id]
    version = GuidanceVersion(
        content_hash=draft.content_hash,
        text=draft.text,
        published_by=actor.email,
        published_at=now,
        consultation_id=draft.id,
        signed_off_by=draft.signed_off_by,
        answered_comments=answered,
    )
    session.add(version)
    session.flush()
    draft.published_version_id = version.id
    session.add(draft)
    audit.record(
        session,
        actor=actor.email,
        action="guidance.publish",
        subject=f"guidance:{version.id}",
        at=now,
        details={
            "version_id": version.id,
            "content_hash": version.content_hash,
            "consultation": draft.id,
            "signed_off_by": draft.signed_off_by,
            "answered_comments": answered,
        },
    )
    asked = [s.email for s in read_status(session) if not s.read_current]
    audit.record(
        session,
        actor=actor.email,
        action="guidance.acknowledge_requested",
        subject=f"guidance:{version.id}",
        at=now,
        details={"asked": asked},
    )
    return version


def comments_of(session: Session, draft: Consultation) -> list[ConsultationComment]:
    return list(
        session.exec(
            select(ConsultationComment)
            .where(ConsultationComment.consultation_id == draft.id)
            .order_by(col(ConsultationComment.id))
        ).all()
    )


@dataclass(frozen=True)
class CommentView:
    id: int
    author: str  # "anonymous" unless the viewer may see names
    body: str
    created_at: datetime
    answer: str | None
    answered_by: str | None


@dataclass(frozen=True)
class ConsultationView:
    id: int
    text: str
    opened_by: str
    closes_at: datetime
    open_for_comments: bool
    anonymous: bool
    signed_off_by: str | None
    published_version_id: int | None
    comments: list[CommentView]
    may_answer: bool  # the viewer is the policy owner
    may_sign_off: bool  # the viewer holds the union role and it is not signed yet


def consultation_view(
    session: Session, *, viewer: Person, now: datetime, consultation_id: int | None = None
) -> ConsultationView | None:
    """The draft and its comments as `viewer` may see them: the one named, else the open
    one, else the last published; None if there has been none."""
    draft = (
        get_consultation(session, consultation_id)
        if consultation_id is not None
        else open_consultation(session) or _latest(session)
    )
    if draft is None or draft.id is None:
        return None
    pmap = current_map(session)
    owner = _owner(pmap, viewer)
    people = {p.id: p.email for p in session.exec(select(Person)).all()}
    role = pmap.config.guidance.union_role
    viewer_roles = pmap.person(viewer.email).roles if viewer.active else []
    return ConsultationView(
        id=draft.id,
        text=draft.text,
        opened_by=draft.opened_by,
        closes_at=draft.closes_at,
        open_for_comments=draft.published_version_id is None and now < draft.closes_at,
        anonymous=draft.anonymous,
        signed_off_by=draft.signed_off_by,
        published_version_id=draft.published_version_id,
        comments=[
            CommentView(
                id=c.id or 0,
                author=(
                    people.get(c.person_id, "?")
                    if owner or not draft.anonymous or c.person_id == viewer.id
                    else ANONYMOUS
                ),
                body=c.body,
                created_at=c.created_at,
                answer=c.answer,
                answered_by=c.answered_by,
            )
            for c in comments_of(session, draft)
        ],
        may_answer=owner and draft.published_version_id is None,
        may_sign_off=role is not None
        and role in viewer_roles
        and draft.signed_off_by is None
        and draft.published_version_id is None,
    )


@dataclass(frozen=True)
class Acknowledgements:
    version_id: int | None
    read: list[str]
    not_read: list[str]


def acknowledgements(session: Session) -> Acknowledgements:
    """Who has acknowledged the current version, and who has not (the figures staff see)."""
    status = read_status(session)
    current = current_version(session)
    return Acknowledgements(
        version_id=current.id if current else None,
        read=[s.email for s in status if s.read_current],
        not_read=[s.email for s in status if not s.read_current],
    )
