"""Finding and removing stray copies on X (see `approvals.delivery.strays` for what they are).

The worker that lost its claim writes down the copy it made and deletes it at once; every
dispatcher pass also deletes whatever is still pending, so a stray is removed even when its
finder dies or X refuses the first delete. Deleting twice is harmless: X answers 404, which
the client takes as done.
"""

import logging

from sqlalchemy.engine import Engine

from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery import strays
from approvals.delivery.publisher import XError, XPublisher
from approvals.delivery.strays import Stray
from approvals.models import Account
from bot.publishers import PublisherFor

log = logging.getLogger("pressgate.strays")


class StrayCopies:
    def __init__(
        self, *, engine: Engine, publishers: PublisherFor, clock: Clock, worker: str
    ) -> None:
        self.engine, self.publishers, self.clock, self.worker = engine, publishers, clock, worker

    def found(self, *, post_id: int, position: int, x_id: str, publisher: XPublisher) -> None:
        """A call made under a lost claim reached X: unless it was adopted, remove it."""
        with session_scope(self.engine) as session:
            stray = strays.record_stray(
                session,
                post_id=post_id,
                position=position,
                x_post_id=x_id,
                worker=self.worker,
                now=self.clock.now(),
            )
        if stray is None:
            log.info("post %s: part %s (%s) was adopted on takeover", post_id, position, x_id)
            return
        log.warning(
            "post %s: part %s reached X as %s after this worker lost the claim; removing it",
            post_id,
            position,
            x_id,
        )
        self.remove(stray, publisher)

    def remove_pending(self) -> None:
        """Delete the stray copies still on X."""
        try:
            with session_scope(self.engine, read_only=True) as session:
                targets = [
                    (stray, self.publishers(session, account))
                    for stray in strays.pending_strays(session)
                    if (account := session.get(Account, stray.account_id)) is not None
                ]
        except Exception:  # account disconnected, database away: the next pass tries again
            log.exception("could not look for stray copies to remove")
            return
        for stray, publisher in targets:
            self.remove(stray, publisher)

    def remove(self, stray: Stray, publisher: XPublisher) -> None:
        try:
            publisher.delete_post(stray.x_post_id)
        except XError as error:
            log.warning(
                "stray copy %s of post %s not removed yet: %s",
                stray.x_post_id,
                stray.post_id,
                error,
            )
            with session_scope(self.engine) as session:
                strays.stray_not_removed(session, stray_id=stray.id, error=str(error))
            return
        with session_scope(self.engine) as session:
            strays.stray_removed(
                session, stray_id=stray.id, worker=self.worker, now=self.clock.now()
            )
        log.info("post %s: stray copy %s removed from X", stray.post_id, stray.x_post_id)

    def pending_for(self, post_id: int) -> bool:
        with session_scope(self.engine, read_only=True) as session:
            return strays.has_pending_strays(session, post_id)
