"""Stopping a worker on SIGTERM within `PRESSGATE_SHUTDOWN_GRACE` seconds.

A stop first tells the dispatcher to claim nothing more; the post in hand is finished (its
call to X, and the rest of its thread), so a stop between two posts leaves no claim behind.
If the grace period runs out while a call to X is still on the wire (X is slow, a timeout is
long), the worker cannot know whether the call landed: it lets go of every claim it still
holds as "outcome unknown", which makes another worker look at the account's timeline
before sending anything (after `PRESSGATE_DISPATCH_SETTLE_AFTER`, time for the call to
land), and leaves at once. Container platforms kill a process after their own grace
(Kubernetes: `terminationGracePeriodSeconds`, 30 s), so ours is shorter by default.
"""

import logging
import os
import threading
from types import TracebackType
from typing import Protocol

log = logging.getLogger("pressgate.worker")


class InFlight:
    """Counts the scheduler's jobs running now, so a stop can wait for them with a timeout
    (APScheduler's `shutdown(wait=True)` has none)."""

    def __init__(self) -> None:
        self._running = 0
        self._changed = threading.Condition()

    def __enter__(self) -> None:
        with self._changed:
            self._running += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float | None) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._running == 0, timeout)


class Stoppable(Protocol):
    def stop(self, grace: float | None = None) -> bool: ...

    def let_go(self) -> int: ...


def stop_within(worker: Stoppable, grace: float) -> None:
    """Stop `worker`; past `grace` seconds, let its claims go and end the process at once.

    The process must end even though a thread is still waiting for X: Python would wait for
    it at exit, for as long as `PRESSGATE_X_TIMEOUT` allows, past any grace.
    """
    if worker.stop(grace):
        log.info("worker stopped: nothing in flight, no claim held")
        return
    released = worker.let_go()
    log.warning(
        "shutdown grace of %ss ran out during a call to X: %s claim(s) let go as outcome "
        "unknown; another worker reconciles them",
        grace,
        released,
    )
    logging.shutdown()
    os._exit(0)
