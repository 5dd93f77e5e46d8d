"""What the dispatcher writes down after each call to X.

Each method is one short transaction through `approvals.delivery.outcomes`, fenced by the claim's
token: a worker that lost its claim gets `LostClaim` from any of them and records nothing.
Failed attempts are counted here: only calls that X answered with an error (and errors
nobody classified) count towards `max_attempts`; timeouts, lost connections, crashes and
reconciles do not, because they say nothing about the post.
"""

import logging
import random
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery import outcomes
from approvals.delivery.outcomes import LostClaim, Reconciled
from approvals.messaging.notify import Notifier
from bot.jobs import DispatchPolicy, Job, PartJob

log = logging.getLogger("pressgate.dispatcher")


class Recorder:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        worker: str,
        notifier: Notifier,
        policy: DispatchPolicy,
        rng: random.Random,
    ) -> None:
        self.engine, self.clock, self.worker = engine, clock, worker
        self.notifier, self.policy, self.rng = notifier, policy, rng
        self._fenced: dict[tuple[int, int], datetime] = {}  # (post, token): last confirmed

    def renew(self, job: Job) -> None:
        """Before each call to X: confirm the claim still holds and extend its lease.

        A claim confirmed less than half a lease ago (taken, renewed, or a part recorded
        under it) cannot have been taken over: another worker may take it only once the
        whole lease has run out. Then the round trip is skipped; a worker frozen for longer
        sees the time pass on the same clock and asks the database.
        """
        now = self.clock.now()
        if now - self._fenced.get((job.post_id, job.token), job.claimed_at) < self.policy.lease / 2:
            return
        with session_scope(self.engine) as session:
            outcomes.renew(
                session, post_id=job.post_id, token=job.token, now=now, lease=self.policy.lease
            )
        self._fenced[(job.post_id, job.token)] = now

    def done_with(self, job: Job) -> None:
        """The claim is settled or let go: nothing more to remember about it."""
        self._fenced.pop((job.post_id, job.token), None)

    def part(self, job: Job, part: PartJob, x_id: str) -> None:
        now = self.clock.now()
        with session_scope(self.engine) as session:
            outcomes.record_part(
                session,
                post_id=job.post_id,
                part_id=part.id,
                x_post_id=x_id,
                token=job.token,
                now=now,
                lease=self.policy.lease,
            )
        self._fenced[(job.post_id, job.token)] = now  # the token held, the lease extended

    def reconciled(self, job: Job, found: dict[int, str], since: datetime) -> None:
        with session_scope(self.engine) as session:
            outcomes.record_reconcile(
                session,
                post_id=job.post_id,
                token=job.token,
                worker=self.worker,
                now=self.clock.now(),
                result=Reconciled(found, since),
                previous=job.previous_worker,
            )

    def published(self, job: Job, *, sandbox: bool, via: str) -> None:
        with session_scope(self.engine) as session:
            outcomes.mark_published(
                session,
                post_id=job.post_id,
                token=job.token,
                worker=self.worker,
                now=self.clock.now(),
                sandbox=sandbox,
                via=via,
            )
        where = "the sandbox (not X)" if sandbox else f"X as {job.account}"
        log.info("post %s published to %s", job.post_id, where)
        self.notifier.post_event(
            post_id=job.post_id, author=job.author, event="published", message=f"on {where}"
        )

    def retry(
        self,
        job: Job,
        error: str,
        *,
        retry_at: datetime | None,
        counts: bool,
        rate_limited: bool = False,
    ) -> None:
        """Try again later; `counts`: X answered with an error, a failed attempt."""
        errors = job.attempts + (1 if counts else 0)
        if errors >= self.policy.max_attempts:
            self.fail(job, f"{error}; gave up after {errors} errors from X", counts=counts)
            return
        now = self.clock.now()
        when = max(retry_at or now, now + self.policy.backoff(errors, self.rng))
        with session_scope(self.engine) as session:
            outcomes.mark_retry(
                session,
                post_id=job.post_id,
                token=job.token,
                now=now,
                retry_at=when,
                error=error,
                counts=counts,
                rate_limited=rate_limited,
            )
        log.info("post %s: %s; retry at %s", job.post_id, error, when.isoformat())

    def unknown(
        self, job: Job, error: str, *, counts: bool, settle_after: timedelta | None = None
    ) -> None:
        with session_scope(self.engine) as session:
            outcomes.mark_unknown(
                session,
                post_id=job.post_id,
                token=job.token,
                worker=self.worker,
                now=self.clock.now(),
                settle_after=settle_after or self.policy.settle_after,
                error=error,
                counts=counts,
            )
        log.warning("post %s: outcome unknown (%s); will reconcile", job.post_id, error)

    def unexpected(self, job: Job, error: Exception) -> None:
        """An error nobody classified: let the claim go with a backoff, reconcile first.

        It may have struck after X took a part (say, while recording it), so the next claim
        looks at the timeline before sending. It counts as a failed attempt, so a post that
        always fails this way ends as failed instead of holding its account for ever, and the
        account's later posts wait no longer than the backoff.
        """
        delay = self.policy.backoff(job.attempts + 1, self.rng)
        try:
            self.unknown(
                job,
                f"unexpected error: {type(error).__name__}: {error}",
                counts=True,
                settle_after=max(delay, self.policy.settle_after),
            )
        except LostClaim:
            return
        except Exception:  # the database itself is away: the lease runs out on its own
            log.exception("post %s: could not record the unexpected error", job.post_id)

    def fail(self, job: Job, error: str, *, counts: bool = True) -> None:
        with session_scope(self.engine) as session:
            outcomes.mark_failed(
                session,
                post_id=job.post_id,
                token=job.token,
                now=self.clock.now(),
                error=error,
                counts=counts,
            )
        log.warning("post %s failed: %s", job.post_id, error)
        self.notifier.post_event(
            post_id=job.post_id, author=job.author, event="failed", message=error
        )
