"""The sandbox publisher: records what would have been posted, and posts nothing.

It is what `pressgate demo` uses, and what runs when asked for with PRESSGATE_SANDBOX=1,
never as a silent stand-in for missing X credentials. Its ids start with `sandbox-` and
posts it publishes are flagged `sandbox`, so nobody mistakes them for real posts on X.

A takedown holds the post's row lock across its calls to the publisher. SQLite has one
writer, so a sandbox that wrote in a transaction of its own would wait for the takedown's
until the busy timeout: while the unit of work it was made in is still open, a deletion is
written in it instead (and commits, or rolls back, with the takedown).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery.publisher import OutgoingPart, Rejected, TimelinePost
from approvals.models import SandboxPost

PREFIX = "sandbox-"


class SandboxPublisher:
    sandbox = True

    def __init__(
        self, *, engine: Engine, account_key: str, clock: Clock, session: Session | None = None
    ) -> None:
        self._engine, self._key, self._clock = engine, account_key, clock
        self._session = session  # the unit of work it was made in, if any

    @contextmanager
    def _unit(self) -> Iterator[Session]:
        """For a deletion: the caller's unit of work while it is open, else one of our own."""
        if self._session is not None and self._session.in_transaction():
            yield self._session
            self._session.flush()
            return
        with session_scope(self._engine) as session:
            yield session

    def create_post(self, part: OutgoingPart, *, reply_to: str | None) -> str:
        row = SandboxPost(
            account_key=self._key,
            text=part.text,
            reply_to=reply_to,
            media=[{"sha256": m.sha256, "alt_text": m.alt_text} for m in part.media],
            created_at=self._clock.now(),
        )
        with session_scope(self._engine) as session:  # committed at once, like an id from X
            session.add(row)
            session.flush()
            return f"{PREFIX}{row.id}"

    def delete_post(self, post_id: str) -> None:
        with self._unit() as session:
            row = _row(session, post_id)
            if row is None:
                raise Rejected(f"{post_id} is not a sandbox post")
            row.deleted = True
            session.add(row)

    def recent_posts(self, *, since: datetime) -> list[TimelinePost]:
        with session_scope(self._engine, read_only=True) as session:
            rows = session.exec(
                select(SandboxPost)
                .where(
                    SandboxPost.account_key == self._key,
                    col(SandboxPost.created_at) >= since,
                    col(SandboxPost.deleted).is_(False),
                )
                .order_by(col(SandboxPost.id).desc())
            ).all()
            return [TimelinePost(f"{PREFIX}{r.id}", r.text, r.created_at) for r in rows]


def _row(session: Session, post_id: str) -> SandboxPost | None:
    if not post_id.startswith(PREFIX) or not post_id[len(PREFIX) :].isdigit():
        return None
    return session.get(SandboxPost, int(post_id[len(PREFIX) :]))
