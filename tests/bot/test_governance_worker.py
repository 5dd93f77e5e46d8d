"""The worker's beats carry governance: escalations are sent with the reminders, and a pause
whose set end has come is recorded as lifted. The jobs are called directly on the injected
clock (no waiting on the scheduler)."""

import json
from datetime import timedelta

from approvals.records.audit import SYSTEM
from bot.settings import Settings
from bot.worker import Worker
from tests.approvals.governance_maps import staged_config
from tests.bot.conftest import Cli
from tests.bot.maps import apply_map
from tests.fakes.notifier import RecordingNotifier


def sandboxed(cli: Cli) -> Settings:
    """The worker as `PRESSGATE_SANDBOX=1` runs it: nothing here publishes to X."""
    return cli.settings.model_copy(update={"sandbox": True})


ESCALATING = {"escalate_within_minutes": 60, "deputy_role": "deputy", "duty_role": "duty"}


def _staged(cli: Cli) -> None:
    apply_map(cli, staged_config(account=ESCALATING))


def test_the_reminder_beat_sends_escalations_to_the_deputies(cli: Cli) -> None:
    _staged(cli)
    post = cli.json(
        "draft",
        "--as",
        "alice@example.org",
        "-a",
        "@DeptNews",
        "--text",
        "Due soon",
        "--at",
        "2026-11-24 15:00",
        "--submit",
    )
    notifier = RecordingNotifier()
    engine = cli.engine
    worker = Worker(settings=sandboxed(cli), engine=engine, clock=cli.clock, notifier=notifier)
    try:
        cli.clock.advance(timedelta(hours=1, minutes=59))  # 61 minutes before: not yet
        worker.remind()
        assert ("erin@example.org", post["id"], "reminder") not in notifier.sent
        cli.clock.advance(timedelta(minutes=1))
        worker.remind()
        assert ("erin@example.org", post["id"], "reminder") in notifier.sent
    finally:
        engine.dispose()
    entries = [json.loads(line) for line in cli.ok("audit", "export").stdout.splitlines()]
    (escalated,) = [e for e in entries if e["action"] == "post.escalated"]
    assert escalated["details"]["asked"] == ["erin@example.org"]


def test_the_dispatch_beat_records_a_pause_whose_end_has_come(cli: Cli) -> None:
    cli.ok(
        "pause",
        "--all",
        "--as",
        "sam@example.org",
        "--reason",
        "Briefing",
        "--until",
        "2026-11-24 13:00",
    )
    engine = cli.engine
    worker = Worker(settings=sandboxed(cli), engine=engine, clock=cli.clock)
    try:
        cli.clock.advance(timedelta(minutes=59))
        worker.tick()
        last = json.loads(cli.ok("audit", "export").stdout.splitlines()[-1])
        assert last["action"] == "publishing.pause"
        cli.clock.advance(timedelta(minutes=1))
        worker.tick()
    finally:
        engine.dispose()
    last = json.loads(cli.ok("audit", "export").stdout.splitlines()[-1])
    assert (last["actor"], last["action"], last["details"]["automatic"]) == (
        SYSTEM,
        "publishing.resume",
        True,
    )
