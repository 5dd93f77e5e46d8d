"""The audit log's verdict for a page that shows it on every load.

Walking the whole chain costs about 35 microseconds an entry (0.7 s for 20,000 entries on
the machine of the README's figures), and the log only grows. `ChainVerdicts` keeps the last
walk that held in this process's memory (never in the database, where whoever could rewrite
the log could rewrite the memo too), and on each load walks only the entries appended since,
after checking that the last entry it walked is still stored as it was. Every
`WHOLE_WALK_EVERY` it walks from entry 1 again, so an edit to an older entry shows within
that time, and the verdict says when the whole chain was last walked. `pressgate audit
verify` and a restore always walk the whole chain.
"""

import dataclasses
import threading
from datetime import datetime, timedelta

from sqlmodel import Session

from approvals.records import audit
from approvals.records.audit_chain import ChainWalk, VerifyResult

WHOLE_WALK_EVERY = timedelta(minutes=10)


class ChainVerdicts:
    """One per process that shows the verdict (the web app): page loads share the walk."""

    def __init__(self, whole_walk_every: timedelta = WHOLE_WALK_EVERY) -> None:
        self.whole_walk_every = whole_walk_every
        self._lock = threading.Lock()  # one walk at a time; the others then go on from it
        self._walk: ChainWalk | None = None
        self._whole_at: datetime | None = None

    def verify(self, session: Session, now: datetime) -> VerifyResult:
        with self._lock:
            due = self._whole_at is None or now - self._whole_at >= self.whole_walk_every
            result, self._walk = audit.verify_on(session, None if due else self._walk)
            if result.walked_from == 1:
                self._whole_at = now
            whole_at = self._whole_at
            if self._walk is None:  # broken: walk from the start again next time
                self._whole_at = None
        return dataclasses.replace(result, whole_walk_at=whole_at)
