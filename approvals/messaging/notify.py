"""Telling people what happened, outside the outbox's own planning.

Notices about a change are planned by `approvals.messaging.notices` in the transaction of the
change, so the worker's notifier has nothing more to say about posts (`OutboxNotifier`). What is
about no one change (a budget crossed, the weekly digest) it writes to the outbox in a
transaction of its own, and the worker sends it like every other notice. The protocol stays
for callers that want a transcript of their own (the tests' recording notifier).
"""

from typing import Protocol

from sqlalchemy.engine import Engine

from approvals.clock import Clock, SystemClock
from approvals.db import session_scope
from approvals.messaging import notices


class Notifier(Protocol):
    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        """Tell a post's author it was published, failed or taken down."""
        ...

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        """Ask approvers to decide on a post that is due soon and short of approvals."""
        ...

    def tell(self, *, people: list[str], topic: str, message: str) -> None:
        """Tell people something that is about no one post (a budget crossed, the weekly
        analytics digest); `topic` names what it is, e.g. "budget_warn", "digest"."""
        ...


class OutboxNotifier:
    """Post events and reminders are already in the outbox, written with their change; what
    `tell` is given goes there now, when the notifier has an engine to write with."""

    def __init__(self, engine: Engine | None = None, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        pass

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        pass

    def tell(self, *, people: list[str], topic: str, message: str) -> None:
        if self.engine is None or not people:
            return
        with session_scope(self.engine) as session:
            notices.tell(session, people=people, topic=topic, text=message, at=self.clock.now())
