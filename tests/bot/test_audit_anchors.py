"""`pressgate run` anchors the audit head on its schedule: at start and every
`PRESSGATE_AUDIT_ANCHOR_INTERVAL` seconds, to the anchor file and the log."""

import json
import logging
from datetime import timedelta

import pytest

from bot.worker import Worker
from tests.bot.conftest import Cli


def test_the_worker_anchors_on_its_interval_to_the_file_and_the_log(
    cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    settings = cli.settings.model_copy(update={"audit_anchor_interval": 120.0, "sandbox": True})
    engine = cli.engine
    worker = Worker(settings=settings, engine=engine, clock=cli.clock)
    caplog.set_level(logging.INFO, logger="pressgate.audit")
    worker.start()
    try:
        job = worker.scheduler.get_job("audit-anchor")
        assert job is not None
        assert job.trigger.interval == timedelta(seconds=120)
        job.func()  # what the scheduler runs; no waiting on its clock
    finally:
        worker.stop()
        engine.dispose()

    head = cli.json("audit", "verify")["checked"]
    lines = settings.audit_anchor_file.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["seq"] == head
    assert any(
        r.name == "pressgate.audit" and r.getMessage() == f"audit anchor {lines[-1]}"
        for r in caplog.records
    )


def test_a_failed_scheduled_anchor_is_logged_not_raised(
    cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    settings = cli.settings.model_copy(
        update={"audit_anchor_file": cli.settings.config.parent, "sandbox": True}
    )
    engine = cli.engine
    worker = Worker(settings=settings, engine=engine, clock=cli.clock)
    worker.start()
    try:
        job = worker.scheduler.get_job("audit-anchor")
        assert job is not None
        job.func()
    finally:
        worker.stop()
        engine.dispose()
    assert any(
        r.levelno == logging.ERROR
        and r.getMessage()
        == f"audit anchor: {cli.settings.config.parent}: the anchor could not be written "
        "(Is a directory)"
        for r in caplog.records
    )
