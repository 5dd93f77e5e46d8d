"""Reading the audit log: who may, filters, pages newest first, and filtered exports.

Who may read it: anyone the map gives `manage`, `pause`, `takedown` or `view_analytics` on
any account — the digital strategy lead (who owns the map), admins and duty officers (who
pause, take down and verify the log). The log shows every post's words' fate and every
person's decisions across all accounts, so press officers and approvers, who act on their
own accounts, see only a post's own trail on its page.

The chain itself (`approvals.records.audit`) is walked by `audit.verify`; this module only reads
entries, so it works the same whatever the chain's hashing. Exports write each entry with
every stored column (details as JSON), as `pressgate audit export` does, so an export of
part of the log can be checked line by line by whoever holds what `verify` needs.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from approvals.config import Action
from approvals.db import MAX_ID
from approvals.errors import InvalidInput, PermissionDenied
from approvals.map_store import current_map
from approvals.models import AuditEntry, Person
from approvals.records import audit
from approvals.records.audit import canonical_json
from approvals.records.chain_verdicts import ChainVerdicts

PAGE_SIZE = 50
EXPORT_BATCH = 1000
READER_ACTIONS = (Action.MANAGE, Action.PAUSE, Action.TAKEDOWN, Action.VIEW_ANALYTICS)
MAX_FILTER_CHARS = 320


def may_read(session: Session, person: Person) -> bool:
    """`person` holds one of `READER_ACTIONS` on at least one corporate account."""
    pmap = current_map(session)
    return any(
        pmap.can(person.email, action, account.handle)
        for action in READER_ACTIONS
        for account in pmap.corporate_accounts()
    )


def require_reader(session: Session, person: Person) -> None:
    if not may_read(session, person):
        raise PermissionDenied(
            f"{person.email} may not read the audit log: it is open to people with the "
            "manage, pause, takedown or view_analytics right (the strategy lead, admins and "
            "duty officers)"
        )


@dataclass(frozen=True)
class AuditFilters:
    """What to look for. Dates are UTC calendar days, both ends included."""

    actor: str | None = None
    action: str | None = None  # ending in "." a prefix (`post.`), otherwise exact
    post_id: int | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(
        cls,
        *,
        actor: str = "",
        action: str = "",
        post: str = "",
        since: str = "",
        until: str = "",
    ) -> "AuditFilters":
        """The filters as typed into the page's form; empty fields filter nothing."""
        for name, value in (("who", actor), ("what", action)):
            if len(value) > MAX_FILTER_CHARS:
                raise InvalidInput(f"{name}: at most {MAX_FILTER_CHARS} characters")
        post_id = None
        if post.strip():
            try:
                post_id = int(post.strip())
            except ValueError:
                raise InvalidInput(f"post {post.strip()!r} is not a post number") from None
            if not 1 <= post_id <= MAX_ID:
                raise InvalidInput(f"post {post_id} does not exist")
        first, last = _day("from", since), _day("to", until)
        if first is not None and last is not None and last < first:
            raise InvalidInput(f"the date range ends ({last}) before it starts ({first})")
        return cls(
            actor=actor.strip().lower() or None,
            action=action.strip() or None,
            post_id=post_id,
            since=first,
            until=last,
        )

    @property
    def active(self) -> bool:
        return any(
            v is not None for v in (self.actor, self.action, self.post_id, self.since, self.until)
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actor is not None:
            found.append(col(AuditEntry.actor) == self.actor)
        if self.action is not None:
            if self.action.endswith("."):
                found.append(col(AuditEntry.action).startswith(self.action, autoescape=True))
            else:
                found.append(col(AuditEntry.action) == self.action)
        if self.post_id is not None:
            found.append(col(AuditEntry.subject) == f"post:{self.post_id}")
        if self.since is not None:
            found.append(col(AuditEntry.at) >= datetime.combine(self.since, time(0), UTC))
        if self.until is not None:
            end = datetime.combine(self.until + timedelta(days=1), time(0), UTC)
            found.append(col(AuditEntry.at) < end)
        return found


def _day(name: str, value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {value.strip()!r} is not a date as YYYY-MM-DD") from None


@dataclass(frozen=True)
class AuditRow:
    """An entry as the page shows it: details as readable pairs, the post it is about."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    post_id: int | None
    details: list[tuple[str, str]]


@dataclass(frozen=True)
class AuditPage:
    verified: audit.VerifyResult
    filters: AuditFilters
    rows: list[AuditRow]
    matching: int
    next_before: int | None  # pass as `before` for the next (older) page; None: no more


def audit_page(
    session: Session,
    *,
    reader: Person,
    filters: AuditFilters,
    before: int | None = None,
    limit: int = PAGE_SIZE,
    verdicts: ChainVerdicts | None = None,
    now: datetime | None = None,
) -> AuditPage:
    """The chain's verdict, and one page of matching entries, newest first.

    Pages are keyed on `seq` (entries older than `before`), so entries appended while
    someone pages back never shift what the next page shows. With `verdicts`, the chain is
    walked from where the last load's walk ended (`approvals.records.chain_verdicts`).
    """
    require_reader(session, reader)
    if verdicts is None:
        verified = audit.verify(session)
    else:
        verified = verdicts.verify(session, now or datetime.now(UTC))
    conditions = filters.conditions()
    matching = session.exec(select(func.count()).select_from(AuditEntry).where(*conditions)).one()
    query = select(AuditEntry).where(*conditions)
    if before is not None:
        query = query.where(col(AuditEntry.seq) < before)
    found = list(session.exec(query.order_by(col(AuditEntry.seq).desc()).limit(limit + 1)).all())
    more = len(found) > limit
    shown = found[:limit]
    return AuditPage(
        verified=verified,
        filters=filters,
        rows=[_row(entry) for entry in shown],
        matching=int(matching),
        next_before=shown[-1].seq if more and shown else None,
    )


def _row(entry: AuditEntry) -> AuditRow:
    post_id = None
    if entry.subject.startswith("post:") and entry.subject[5:].isdigit():
        post_id = int(entry.subject[5:])
    details = json.loads(entry.details)
    pairs = [
        (str(key), value if isinstance(value, str) else canonical_json(value))
        for key, value in (details.items() if isinstance(details, dict) else [("", details)])
    ]
    return AuditRow(entry.seq, entry.at, entry.actor, entry.action, entry.subject, post_id, pairs)


# --- export ------------------------------------------------------------------------------


def export_upto(session: Session, *, reader: Person) -> int:
    """Check the right to export and fix where the export ends: the newest entry now.

    Entries appended while an export streams are left for the next one, so an export is
    one consistent stretch of the chain.
    """
    require_reader(session, reader)
    newest = session.exec(select(func.max(AuditEntry.seq))).one()
    return int(newest or 0)


def export_batch(
    session: Session, *, filters: AuditFilters, after: int, upto: int, batch: int = EXPORT_BATCH
) -> tuple[list[str], int | None]:
    """JSON lines for the next `batch` matching entries after `after`, oldest first, and the
    seq to continue after (None when done). Each batch is its own short read, so a slow
    download holds no transaction open."""
    entries = session.exec(
        select(AuditEntry)
        .where(*filters.conditions(), col(AuditEntry.seq) > after, col(AuditEntry.seq) <= upto)
        .order_by(col(AuditEntry.seq))
        .limit(batch)
    ).all()
    lines = [export_line(entry) for entry in entries]
    return lines, (entries[-1].seq if len(entries) == batch else None)


def export_line(entry: AuditEntry) -> str:
    """One entry as `pressgate audit export` writes it: every column, details as JSON."""
    document: dict[str, Any] = {}
    for name in AuditEntry.model_fields:
        value = getattr(entry, name)
        if name == "details":
            value = json.loads(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        document[name] = value
    return canonical_json(document) + "\n"


def export_lines(
    open_session: Callable[[], AbstractContextManager[Session]],
    *,
    filters: AuditFilters,
    upto: int,
    batch: int = EXPORT_BATCH,
) -> Iterator[str]:
    """Every matching entry up to `upto` as JSON lines, oldest first, one chunk of lines per
    batch (a web server hands each chunk on in one go). Each batch is read in a session of
    its own (`open_session`), closed before its lines are handed on."""
    after = 0
    while True:
        with open_session() as session:
            lines, last = export_batch(
                session, filters=filters, after=after, upto=upto, batch=batch
            )
        if lines:
            yield "".join(lines)
        if last is None:
            return
        after = last
