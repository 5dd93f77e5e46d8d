"""The scheduler in each worker process: wakes the dispatcher at due times and on a beat.

APScheduler 3.x keeps only timing, in memory (its job stores must never be shared between
processes); the database decides what is due and who publishes it. A pass runs when the
next post falls due and at least every `dispatch_interval` seconds, which also picks up
retries, posts approved after their time, and attempts left unfinished by a dead worker.
"""

import logging
import os
import socket
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from approvals.clock import Clock, SystemClock
from approvals.db import session_scope
from approvals.notify import LogNotifier, Notifier
from approvals.publishing import next_due_at
from approvals.reminders import due_reminders
from bot.audit_anchors import schedule_anchoring
from bot.dispatcher import Dispatcher
from bot.jobs import DispatchPolicy
from bot.publishers import publisher_factory
from bot.settings import Settings
from bot.shutdown import InFlight

log = logging.getLogger("pressgate.worker")


def dispatch_policy(settings: Settings) -> DispatchPolicy:
    return DispatchPolicy(
        concurrency=settings.dispatch_concurrency,
        lease=timedelta(seconds=settings.dispatch_lease),
        settle_after=timedelta(seconds=settings.dispatch_settle_after),
        retry_base=timedelta(seconds=settings.retry_base),
        retry_max=timedelta(seconds=settings.retry_max),
        max_attempts=settings.max_attempts,
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.settings = settings
        self.engine = engine
        self.notifier = notifier or LogNotifier()
        self.interval = settings.dispatch_interval
        self.remind_interval = settings.remind_interval
        self.sandbox = settings.publisher == "sandbox"
        self.dispatcher = Dispatcher(
            engine=engine,
            publishers=publisher_factory(settings, engine, self.clock),
            clock=self.clock,
            worker=worker_name(),
            notifier=self.notifier,
            policy=dispatch_policy(settings),
        )
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.in_flight = InFlight()  # the jobs running now, for a stop with a grace period

    def start(self) -> None:
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval,
            id="beat",
            max_instances=1,
            coalesce=True,
            next_run_time=self.clock.now(),
        )
        self.scheduler.add_job(
            self.remind,
            "interval",
            seconds=self.remind_interval,
            id="reminders",
            max_instances=1,
            coalesce=True,
        )
        schedule_anchoring(
            self.scheduler, settings=self.settings, engine=self.engine, clock=self.clock
        )
        self.scheduler.start()
        log.info("worker %s started (beat every %ss)", self.dispatcher.worker, self.interval)
        if self.sandbox:
            log.warning(
                "sandbox publisher: approved posts are recorded and marked SANDBOX; "
                "nothing is sent to X"
            )

    @property
    def running(self) -> bool:
        """The scheduler runs (what /readyz and /metrics report for this process)."""
        return bool(self.scheduler.running)

    def stop(self, grace: float | None = None) -> bool:
        """Claim nothing more and finish the post in hand; False if that outlasts `grace`
        seconds (None: wait for it however long it takes)."""
        self.dispatcher.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        return self.in_flight.wait_idle(grace)

    def let_go(self) -> int:
        """Past the grace period: let every claim still held go (bot/shutdown.py)."""
        settle = timedelta(seconds=self.settings.dispatch_settle_after)
        return self.dispatcher.leases.let_go(worker=self.dispatcher.worker, settle_after=settle)

    def tick(self) -> None:
        """A dispatcher pass, then an alarm for the next scheduled post if it comes sooner."""
        with self.in_flight:
            self._tick()

    def _tick(self) -> None:
        if self.dispatcher.stopping.is_set():
            return
        try:
            handled = self.dispatcher.run_once()
            if handled:
                log.info("dispatcher pass: %s posts handled", handled)
            with session_scope(self.engine, read_only=True) as session:
                due = next_due_at(session)
        except Exception:  # the database may be briefly away; the next beat tries again
            log.exception("dispatcher pass failed")
            return
        now = self.clock.now()
        if due is not None and now < due < now + timedelta(seconds=self.interval):
            self.scheduler.add_job(
                self.tick,
                "date",
                run_date=due,
                id="alarm",
                replace_existing=True,
                misfire_grace_time=60,
            )

    def remind(self) -> None:
        with self.in_flight:
            self._remind()

    def _remind(self) -> None:
        try:
            reminders = due_reminders(self.engine, now=self.clock.now())
        except Exception:
            log.exception("approval reminders failed")
            return
        for r in reminders:
            self.notifier.remind_approvers(
                post_id=r.post_id,
                approvers=r.approvers,
                message=f"{r.account} post {r.post_id} is due at {r.due_at:%H:%M} UTC and needs "
                f"{r.missing} more approval(s)",
            )
