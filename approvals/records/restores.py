"""After a database was restored from a back-up: check its audit log, then record the
restore in it, so the log itself says that what follows continues from an older state."""

from datetime import datetime

from sqlmodel import Session

from approvals.records import audit
from approvals.records.audit import SYSTEM, VerifyResult


def after_restore(session: Session, *, source: str, now: datetime) -> VerifyResult:
    """Verify the restored log; only if it holds is the restore recorded (sealed on top).

    Anchors written after the back-up was taken name entries the restored log no longer
    has: `audit verify --anchor` reports that, as it should, for every restore.
    """
    result = audit.verify(session)
    if result.ok:
        audit.record(
            session,
            actor=SYSTEM,
            action="database.restored",
            subject="database",
            at=now,
            details={"from": source, "entries_before": result.checked},
        )
    return result
