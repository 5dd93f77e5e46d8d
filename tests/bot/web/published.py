"""Posts taken through the real workflow to published, for pages that show or act on them:
drafted and approved from the CLI, then sent by the real dispatcher (to the sandbox, or to
the fake X when the settings point there)."""

from datetime import timedelta

from approvals.db import make_engine
from bot.dispatcher import Dispatcher
from bot.publishers import publisher_factory
from bot.settings import Settings
from tests.bot.conftest import Cli
from tests.fakes.notifier import RecordingNotifier

APPROVERS = {
    "@DeptNews": ("bob@example.org", "carol@example.org"),
    "@DeptHelp": ("bob@example.org",),
}


def approved(cli: Cli, text: str, *, account: str = "@DeptHelp", at: str) -> int:
    """A post by Alice at local time `at`, approved by as many people as the account needs."""
    post = cli.json(
        "draft", "--as", "alice@example.org", "-a", account, "--text", text, "--at", at, "--submit"
    )
    for approver in APPROVERS[account]:
        cli.ok("approve", str(post["id"]), "--as", approver)
    return int(post["id"])


def publish_due(cli: Cli, settings: Settings, *, after: timedelta) -> int:
    """Move the clock on by `after` and let one dispatcher pass publish what is due."""
    cli.clock.advance(after)
    engine = make_engine(settings.database_url, audit_keys=settings.audit_keyring())
    try:
        dispatcher = Dispatcher(
            engine=engine,
            publishers=publisher_factory(settings, engine, cli.clock),
            clock=cli.clock,
            worker="test",
            notifier=RecordingNotifier(),
        )
        return dispatcher.run_once()
    finally:
        engine.dispose()
