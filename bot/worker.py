"""The scheduler in each worker process: wakes the dispatcher at due times and on a beat.

APScheduler 3.x keeps only timing, in memory (its job stores must never be shared between
processes); the database decides what is due and who publishes it. A pass runs when the
next post falls due and at least every `dispatch_interval` seconds, which also picks up
retries, posts approved after their time, and attempts left unfinished by a dead worker.
"""

import logging
import os
import socket
import threading
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from approvals.analytics.digest import weekly_digests
from approvals.clock import Clock, SystemClock
from approvals.db import session_scope
from approvals.delivery.controls import lift_ended_pauses, pauses_ended
from approvals.delivery.publishing import next_due_at
from approvals.messaging.notify import Notifier, OutboxNotifier
from approvals.signoff.escalation import due_escalations
from approvals.signoff.reminders import due_reminders
from approvals.signoff.review_links import prune_spent
from bot.audit_anchors import schedule_anchoring
from bot.collector import Collector
from bot.dispatcher import Dispatcher
from bot.jobs import DispatchPolicy
from bot.publishers import publisher_factory, timeline_factory
from bot.settings import Settings
from bot.shutdown import InFlight
from bot.slack.sender import Sender

SPENT_LINKS_INTERVAL = 3600  # seconds between sweeps of used review links
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
        self.notifier = notifier or OutboxNotifier(engine, self.clock)
        self.interval = settings.dispatch_interval
        self.remind_interval = settings.remind_interval
        self.sandbox = settings.publisher == "sandbox"
        self.dispatcher = Dispatcher(
            engine=engine,
            publishers=publisher_factory(settings, engine, self.clock, self.notifier),
            clock=self.clock,
            worker=worker_name(),
            notifier=self.notifier,
            policy=dispatch_policy(settings),
        )
        self.sender = Sender(
            settings=settings, engine=engine, clock=self.clock, worker=worker_name()
        )
        self.collector = Collector(
            engine=engine,
            timelines=timeline_factory(settings, engine, self.clock, self.notifier),
            clock=self.clock,
            worker=self.dispatcher.worker,
        )
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._one_pass = threading.Lock()  # one dispatcher pass at a time (see `tick`)
        self._again = threading.Event()
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
        for job, seconds, job_id in (
            (self.remind, self.remind_interval, "reminders"),
            (self.send_notices, self.settings.notice_interval, "notices"),
            (self.collect, self.settings.collect_interval, "collector"),
            (self.forget_spent_links, SPENT_LINKS_INTERVAL, "spent-links"),
        ):
            self.scheduler.add_job(
                job, "interval", seconds=seconds, id=job_id, max_instances=1, coalesce=True
            )
        self.scheduler.add_job(
            self.digest,
            "cron",
            day_of_week=self.settings.digest_day,
            hour=self.settings.digest_hour,
            id="digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,  # a worker restarted at 08:20 still sends it
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
        """A dispatcher pass, then an alarm for the next scheduled post if it comes sooner.

        One pass at a time per worker: the beat and a due-time alarm used to run passes side
        by side, doubling the calls to X the settings allow. A tick that finds a pass running
        asks it to go round once more instead, so an alarm is never lost.
        """
        with self.in_flight:
            self._again.set()
            while self._again.is_set() and self._one_pass.acquire(blocking=False):
                try:
                    self._again.clear()
                    self._tick()
                finally:
                    self._one_pass.release()

    def _tick(self) -> None:
        if self.dispatcher.stopping.is_set():
            return
        try:
            with session_scope(self.engine, read_only=True) as session:
                ended = pauses_ended(session, now=self.clock.now())
            if ended:
                with session_scope(self.engine) as session:
                    lift_ended_pauses(session, now=self.clock.now())
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
        """Reminders, then escalations: each claimed step is sent once it is committed, and a
        failure of one kind never holds back the other."""
        try:
            reminders = due_reminders(self.engine, now=self.clock.now())
        except Exception:
            log.exception("approval reminders failed")
            reminders = []
        for r in reminders:
            self.notifier.remind_approvers(
                post_id=r.post_id,
                approvers=r.approvers,
                message=f"{r.account} post {r.post_id} is due at {r.due_at:%H:%M} UTC and needs "
                f"{r.missing} more approval(s)",
            )
        try:
            escalations = due_escalations(self.engine, now=self.clock.now())
        except Exception:
            log.exception("approval escalations failed")
            return
        for step in escalations:
            self.notifier.remind_approvers(
                post_id=step.post_id, approvers=step.people, message=step.message
            )

    def forget_spent_links(self) -> None:
        """Used review links whose time is up guard nothing more (an expired link is refused
        before its use is looked up); an hourly sweep keeps the table small."""
        try:
            with self.in_flight, session_scope(self.engine) as session:
                prune_spent(session, now=self.clock.now())
        except Exception:
            log.exception("forgetting expired review links failed")

    def send_notices(self) -> None:
        """The outbox's due notices to Slack (bot/slack/sender.py)."""
        try:
            with self.in_flight:  # a stop waits for the notices in hand, up to its grace
                self.sender.run_once()
        except Exception:  # the database may be briefly away; the next pass tries again
            log.exception("sending Slack notices failed")

    def collect(self) -> None:
        """A collector round (one worker per account and hour; see bot.collector)."""
        try:
            with self.in_flight:
                done = self.collector.run_once()
        except Exception:
            log.exception("collector round failed")
            return
        if done.posts:
            log.info("collector: %s", done.posts)

    def digest(self) -> None:
        """The weekly digest to the strategy lead, sent by the one worker that claims it."""
        now = self.clock.now()
        try:
            with session_scope(self.engine) as session:
                messages = weekly_digests(
                    session, today=now.date(), now=now, worker=self.dispatcher.worker
                )
        except Exception:
            log.exception("weekly digest failed")
            return
        for person, text in messages:
            self.notifier.tell(people=[person], topic="digest", message=text)
