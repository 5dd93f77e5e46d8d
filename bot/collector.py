"""The collector job: each round, every connected account's own timeline is read for the
posts due (see `approvals.analytics.collector` for which, and why only owned reads).

Every worker schedules it; the database decides who runs it. An account's round is claimed
for the hour by inserting one row (`approvals.analytics.once`), so with any number of
workers one reads each account each hour. A rate limit from X ends that account's round: what
is left is due again next round. Asked from the command line (`pressgate analytics
collect`), the hour's claim is not needed.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from approvals.analytics.collector import (
    OwnTimeline,
    due_windows,
    keep_read,
    prune,
    track_published,
)
from approvals.analytics.once import claim_once
from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery.publisher import RateLimited, XError
from approvals.map_store import current_map
from approvals.models import Account
from approvals.records import audit
from approvals.records.audit import SYSTEM

log = logging.getLogger("pressgate.collector")
TimelineFor = Callable[[Session, Account], OwnTimeline | None]


@dataclass
class Round:
    """What one round did, per account handle."""

    posts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


class Collector:
    def __init__(self, *, engine: Engine, timelines: TimelineFor, clock: Clock, worker: str):
        self.engine, self.timelines, self.clock, self.worker = engine, timelines, clock, worker

    def run_once(self, *, asked: bool = False, again: bool = False) -> Round:
        """One round over every corporate account. `asked`: run now, whatever the hour's
        claim says; `again`: read every post, even those read today."""
        done = Round()
        with session_scope(self.engine) as session:
            prune(session, now=self.clock.now())
        with session_scope(self.engine, read_only=True) as session:
            accounts = session.exec(
                select(Account).where(Account.kind == "corporate", Account.active == True)  # noqa: E712
            ).all()
        for account in accounts:
            try:
                self._account(account, done, asked=asked, again=again)
            except Exception:  # one account's trouble must not stop the others
                log.exception("collector: %s failed", account.handle)
                done.skipped[account.handle] = "unexpected error (logged)"
        return done

    def _account(self, account: Account, done: Round, *, asked: bool, again: bool) -> None:
        assert account.id is not None
        now = self.clock.now()
        with session_scope(self.engine) as session:
            name = f"collect:{account.id}:{now:%Y-%m-%dT%H}"
            if not claim_once(session, name=name, worker=self.worker, now=now) and not asked:
                done.skipped[account.handle] = "another worker has this hour"
                return
            timeline = self.timelines(session, account)
            if timeline is None:
                done.skipped[account.handle] = "not connected to X"
                return
            track_published(session, account_id=account.id)
            hourly = current_map(session).config.analytics.first_day_hourly
            windows = due_windows(
                session, account_id=account.id, now=now, hourly_first_day=hourly, again=again
            )
        read, stopped = 0, None
        for window in windows:
            try:
                figures = timeline.read_own(window)
            except RateLimited as error:
                stopped = f"rate limited by X until {error.retry_at or 'its reset'}"
                break
            except XError as error:
                stopped = str(error)
                break
            with session_scope(self.engine) as session:
                read += keep_read(
                    session, account_id=account.id, window=window, read=figures, now=now
                )
        with session_scope(self.engine) as session:
            audit.record(
                session,
                actor=SYSTEM,
                action="analytics.collect",
                subject=f"account:{account.handle}",
                at=now,
                details={"posts": read, "reads": len(windows), "stopped": stopped},
            )
        done.posts[account.handle] = read
        if stopped:
            done.skipped[account.handle] = stopped
            log.warning("collector: %s stopped: %s", account.handle, stopped)
