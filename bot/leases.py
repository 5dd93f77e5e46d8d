"""Keeping a healthy worker's claims alive while it publishes.

A claim's lease is what lets another worker take over a post whose worker died. A worker
that is alive renews the leases of the posts it holds every third of the lease, so a slow
call to X never looks like a death; a worker that is frozen (a long pause, a suspended VM,
SIGSTOP) renews nothing, its leases run out, and the post is taken over. When it wakes, the
renewal tells it so, and fencing (`approvals.delivery.outcomes`) keeps it from sending or recording.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta

from sqlalchemy.engine import Engine

from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery import outcomes
from approvals.delivery.outcomes import LostClaim

log = logging.getLogger("pressgate.leases")


class LeaseKeeper:
    def __init__(self, *, engine: Engine, clock: Clock, lease: timedelta) -> None:
        self.engine, self.clock, self.lease = engine, clock, lease
        self._held: dict[int, int] = {}  # post id -> fencing token
        self._lock = threading.Lock()

    def hold(self, post_id: int, token: int) -> None:
        with self._lock:
            self._held[post_id] = token

    def release(self, post_id: int) -> None:
        with self._lock:
            self._held.pop(post_id, None)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Renew in the background for as long as the block runs (one dispatcher pass)."""
        stop = threading.Event()
        thread = threading.Thread(target=self._loop, args=(stop,), name="leases", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _loop(self, stop: threading.Event) -> None:
        interval = self.lease.total_seconds() / 3
        while not stop.wait(interval):
            self.renew_all()

    def let_go(self, *, worker: str, settle_after: timedelta) -> int:
        """Shutting down mid-call: every claim still held becomes "outcome unknown", to be
        reconciled by another worker after `settle_after`; returns how many were let go.
        A claim finished or taken over meanwhile raises LostClaim and is left as it is."""
        held = self.held()
        for post_id, token in held:
            with suppress(LostClaim), session_scope(self.engine) as session:
                outcomes.mark_unknown(
                    session,
                    post_id=post_id,
                    token=token,
                    worker=worker,
                    now=self.clock.now(),
                    settle_after=settle_after,
                    error="the worker was stopped during a call to X",
                    counts=False,
                )
        return len(held)

    def held(self) -> list[tuple[int, int]]:
        """(post id, fencing token) of every claim held now."""
        with self._lock:
            return list(self._held.items())

    def renew_all(self) -> None:
        for post_id, token in self.held():
            try:
                with session_scope(self.engine) as session:
                    outcomes.renew(
                        session,
                        post_id=post_id,
                        token=token,
                        now=self.clock.now(),
                        lease=self.lease,
                    )
            except LostClaim:
                log.warning(
                    "post %s: claim %s was taken over while this worker held it", post_id, token
                )
                self.release(post_id)
            except Exception:  # the database may be briefly away; the next round tries again
                log.exception("post %s: lease renewal failed", post_id)
