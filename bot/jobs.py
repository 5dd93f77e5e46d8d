"""What a dispatcher works from: its timings, and a claimed post read whole before any call."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from approvals.delivery.publisher import OutgoingPart, XPublisher


@dataclass(frozen=True)
class DispatchPolicy:
    """Timings; production defaults come from Settings, tests shrink them."""

    concurrency: int = 4
    lease: timedelta = timedelta(minutes=5)
    settle_after: timedelta = timedelta(seconds=30)
    retry_base: timedelta = timedelta(seconds=5)
    retry_max: timedelta = timedelta(minutes=15)
    max_attempts: int = 8

    def backoff(self, attempt: int, rng: random.Random) -> timedelta:
        """Exponential, capped, with jitter so retries from many posts do not arrive together."""
        growth: int = 2 ** max(attempt - 1, 0)
        ceiling: timedelta = min(self.retry_max, self.retry_base * growth)
        return ceiling * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class PartJob:
    id: int
    position: int
    x_post_id: str | None
    outgoing: OutgoingPart


@dataclass(frozen=True)
class Job:
    """Everything needed to publish one claimed post, read before any call to X."""

    post_id: int
    token: int  # the fencing token of this claim
    author: str
    account: str
    parts: list[PartJob]
    reconcile: bool
    attempts: int  # failed attempts so far (errors from X)
    started_at: datetime
    claimed_at: datetime  # by this worker's clock, when the claim (and its lease) was taken
    previous_worker: str | None
    publisher: XPublisher | None
    refusal: str | None  # no publisher could be made (account not connected)
