"""The seam between the X client and the spend ledger: every call is written down.

`XClient` reports each call (`on_call`); this writes it to the ledger in a short transaction
of its own, after the call and outside any other transaction (the dispatcher holds none
while it talks to X), then sends the budget warnings it set off. Which pressgate post a call
was for is known to the dispatcher, not the client: it says so with `working_on(post_id)`
around the calls, per thread, as each dispatch thread publishes one post at a time.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.analytics.spend import BudgetAlert, CallMade, record_call
from approvals.clock import Clock
from approvals.db import session_scope
from approvals.messaging.notify import Notifier

log = logging.getLogger("pressgate.spend")
_POST: ContextVar[int | None] = ContextVar("pressgate_spend_post", default=None)
_SESSION: ContextVar[Session | None] = ContextVar("pressgate_spend_session", default=None)


@contextmanager
def working_on(post_id: int) -> Iterator[None]:
    """Calls to X made inside the block are for this post (its author hears of budgets)."""
    token = _POST.set(post_id)
    try:
        yield
    finally:
        _POST.reset(token)


@contextmanager
def within(session: Session, post_id: int) -> Iterator[None]:
    """Calls made inside the block are written in `session`'s transaction, for callers that
    talk to X while holding one (a takedown locks its post, then deletes it from X): a
    transaction of the ledger's own would wait for that lock, held by the very thread
    waiting for the ledger."""
    token = _SESSION.set(session)
    try:
        with working_on(post_id):
            yield
    finally:
        _SESSION.reset(token)


def ledger(
    *,
    engine: Engine,
    clock: Clock,
    account_id: int | None,
    via: str,
    notifier: Notifier | None = None,
) -> Callable[[CallMade], None]:
    """An `on_call` for one account's client."""

    def on_call(call: CallMade) -> None:
        call = replace(call, account_id=account_id, post_id=_POST.get(), via=via)
        outer = _SESSION.get()
        try:
            if outer is not None:
                with outer.begin_nested():  # a ledger row that fails undoes nothing else
                    alerts = record_call(outer, call=call, now=clock.now())
            else:
                with session_scope(engine) as session:
                    alerts = record_call(session, call=call, now=clock.now())
        except Exception:  # a ledger that cannot be written must not undo a publish
            log.exception("could not record a %s call to X in the spend ledger", call.kind)
            return
        for alert in alerts:
            send_alert(alert, notifier)

    return on_call


def send_alert(alert: BudgetAlert, notifier: Notifier | None) -> None:
    log.warning("budget %s: %s (told %s)", alert.level, alert.message, ", ".join(alert.people))
    if notifier is not None and alert.people:
        notifier.tell(people=alert.people, topic=f"budget_{alert.level}", message=alert.message)
