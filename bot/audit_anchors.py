"""Where audit anchors go (a file and the log; Slack once it exists), and the scheduled job.

`pressgate audit anchor` and the scheduler in `pressgate run` both call `anchor_now`. The
file gets one JSON line per anchor and is created readable by its owner only; keep it (or
a copy) where the database's users cannot write.
"""

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import Engine

from approvals.clock import Clock
from approvals.db import session_scope
from approvals.errors import PressgateError
from approvals.records.audit_anchor import Anchor, AnchorSink, publish_anchor, take_anchor
from bot.settings import Settings

log = logging.getLogger("pressgate.audit")


class FileSink:
    """Appends one JSON line per anchor; the file is created with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def write(self, anchor: Anchor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(anchor.to_json() + "\n")
            out.flush()
            os.fsync(out.fileno())


class LogSink:
    """The process log, which operators usually ship off the machine."""

    name = "log"

    def write(self, anchor: Anchor) -> None:
        log.info("audit anchor %s", anchor.to_json())


def anchor_sinks(settings: Settings, out: Path | None = None) -> list[AnchorSink]:
    return [FileSink(out or settings.audit_anchor_file), LogSink()]


def anchor_now(
    engine: Engine, sinks: Sequence[AnchorSink], clock: Clock
) -> tuple[Anchor, list[str]]:
    """Take the head and publish it; returns the anchor and a line per sink that failed."""
    with session_scope(engine, read_only=True) as session:
        anchor = take_anchor(session, now=clock.now())
    return anchor, publish_anchor(anchor, sinks)


def schedule_anchoring(
    scheduler: BaseScheduler, *, settings: Settings, engine: Engine, clock: Clock
) -> None:
    """Anchor when the scheduler starts and every `audit_anchor_interval` seconds after."""

    def job() -> None:
        try:
            _, failures = anchor_now(engine, anchor_sinks(settings), clock)
        except PressgateError as error:  # a head that does not hold: someone must look
            log.error("audit anchor refused: %s", error)
            return
        except Exception:  # the database may be briefly away; the next run tries again
            log.exception("audit anchor failed")
            return
        for failure in failures:
            log.error("audit anchor: %s", failure)

    scheduler.add_job(
        job,
        "interval",
        seconds=settings.audit_anchor_interval,
        id="audit-anchor",
        max_instances=1,
        coalesce=True,
        next_run_time=clock.now(),
    )
