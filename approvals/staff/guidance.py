"""The personal-use guidance: the text staff read and the published versions they record
having read (the self-check of a draft is `approvals.staff.self_check`).

The text is rendered from the `[guidance]` section of the map in force with our own Jinja2
template (`templates/guidance.txt.j2`), so wording lives with the other templates and the
organisation changes the rules in `pressgate.toml`, not in code. The template is ours, not
user input, hence a plain Environment rather than the sandbox. Publishing freezes one
rendering as a version: the policy was agreed with the unions, so what staff were shown,
when, and who put it up must be on the record (and in the audit log).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from approvals.config import Action, PressgateConfig
from approvals.errors import NotFound, Refused
from approvals.files import shipped
from approvals.map_store import current_map
from approvals.models import GuidanceRead, GuidanceVersion, Person
from approvals.records import audit

TEMPLATES_DIR = shipped("templates")
TEMPLATE = "guidance.txt.j2"


# --- the text ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # plain text; the web page escapes it when it shows it
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_guidance(config: PressgateConfig) -> str:
    guidance = config.guidance
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            organisation=guidance.organisation,
            ground_rules=guidance.ground_rules,
            # Only the corporate accounts: staff's personal handles in the map are nobody's
            # business in a document every member of staff reads.
            corporate_accounts=[a for a in config.accounts if a.kind == "corporate"],
            contact=guidance.contact,
        )
    )


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- published versions -----------------------------------------------------------------


@dataclass(frozen=True)
class GuidanceView:
    """What staff are shown: the published version, or the draft when none is published."""

    text: str
    version: GuidanceVersion | None
    up_to_date: bool  # the published text is what the map in force renders


class ReadStatus(NamedTuple):
    email: str
    read_current: bool


def current_version(session: Session) -> GuidanceVersion | None:
    return session.exec(
        select(GuidanceVersion).order_by(col(GuidanceVersion.id).desc()).limit(1)
    ).first()


def current_guidance(session: Session) -> GuidanceView:
    rendered = render_guidance(current_map(session).config)
    version = current_version(session)
    if version is None:
        return GuidanceView(rendered, None, up_to_date=False)
    return GuidanceView(version.text, version, version.content_hash == content_hash(rendered))


def publish(session: Session, *, actor: Person, now: datetime) -> GuidanceVersion | None:
    """Publish the guidance as the map in force renders it; None if the text is unchanged.

    It is the organisation's policy, so only someone who manages the whole map may put up
    a new version.
    """
    pmap = current_map(session)
    pmap.require(actor.email, Action.MANAGE)
    text = render_guidance(pmap.config)
    digest = content_hash(text)
    current = current_version(session)
    if current is not None and current.content_hash == digest:
        return None
    version = GuidanceVersion(
        content_hash=digest, text=text, published_by=actor.email, published_at=now
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor=actor.email,
        action="guidance.publish",
        subject=f"guidance:{version.id}",
        at=now,
        details={
            "version_id": version.id,
            "content_hash": digest,
            "previous_hash": current.content_hash if current else None,
        },
    )
    return version


def record_read(session: Session, *, person: Person, now: datetime) -> GuidanceRead:
    """Record that `person` has read the current version; reading it again changes nothing."""
    if not person.active or person.id is None:
        raise NotFound(f"{person.email} is not in the permission map")
    version = current_version(session)
    if version is None:
        raise Refused("no guidance has been published yet; ask the strategy lead to publish it")
    assert version.id is not None
    existing = _read_of(session, version.id, person.id)
    if existing is not None:
        return existing
    read = GuidanceRead(version_id=version.id, person_id=person.id, read_at=now)
    try:
        with session.begin_nested():  # the same person in two tabs: the second finds the first
            session.add(read)
    except IntegrityError:
        found = _read_of(session, version.id, person.id)
        assert found is not None
        return found
    audit.record(
        session,
        actor=person.email,
        action="guidance.read",
        subject=f"guidance:{version.id}",
        at=now,
        details={"version_id": version.id, "content_hash": version.content_hash},
    )
    return read


def _read_of(session: Session, version_id: int, person_id: int) -> GuidanceRead | None:
    return session.exec(
        select(GuidanceRead).where(
            GuidanceRead.version_id == version_id, GuidanceRead.person_id == person_id
        )
    ).first()


def receipt_of(session: Session, *, person: Person) -> GuidanceRead | None:
    """`person`'s first receipt for the current text (any version with the same words, as in
    `read_status`), or None if they have not read what is up now."""
    version = current_version(session)
    if version is None or person.id is None:
        return None
    return session.exec(
        select(GuidanceRead)
        .join(GuidanceVersion, col(GuidanceVersion.id) == col(GuidanceRead.version_id))
        .where(GuidanceRead.person_id == person.id)
        .where(GuidanceVersion.content_hash == version.content_hash)
        .where(col(GuidanceVersion.id) >= _consulted_floor(session))
        .order_by(col(GuidanceRead.read_at))
        .limit(1)
    ).first()


def read_status(session: Session) -> list[ReadStatus]:
    """Who in the map has read the current text, in map order.

    Reading any version with the current text counts: republishing identical wording (after
    a map round trip, or two people publishing at once) must not ask everyone to read again;
    but not a version before one published from a consultation (`_consulted_floor`).
    """
    emails = [p.email for p in current_map(session).config.people]
    version = current_version(session)
    if version is None:
        return [ReadStatus(email, False) for email in emails]
    readers = set(
        session.exec(
            select(Person.email)
            .join(GuidanceRead, col(GuidanceRead.person_id) == col(Person.id))
            .join(GuidanceVersion, col(GuidanceVersion.id) == col(GuidanceRead.version_id))
            .where(GuidanceVersion.content_hash == version.content_hash)
            .where(col(GuidanceVersion.id) >= _consulted_floor(session))
            .where(col(Person.email).in_(emails))
        ).all()
    )
    return [ReadStatus(email, email in readers) for email in emails]


def _consulted_floor(session: Session) -> int:
    """The newest version published from a consultation: staff acknowledge it afresh, so
    reads of any version before it do not count, even of the same words."""
    newest = session.exec(
        select(func.max(GuidanceVersion.id)).where(
            col(GuidanceVersion.consultation_id).is_not(None)
        )
    ).one()
    return int(newest or 0)
