"""Setting posts up for the post and review page tests: drafted, decided and published with
the real CLI and the real dispatcher, over the `web` fixture's database."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from approvals.db import session_scope
from approvals.delivery.strays import record_stray
from approvals.post_detail import PostDetail, ReviewDetail
from bot.dispatcher import Dispatcher
from bot.publishers import publisher_factory
from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.conftest import Cli
from tests.bot.publishing_world import POLICY, SECRET, connect_account
from tests.bot.web.conftest import TRUSTED, Web, web_settings
from tests.factories import EXAMPLE_CONFIG
from tests.fakes.fake_x import FakeX
from tests.fakes.notifier import RecordingNotifier

ALICE = ("--as", "alice@example.org")


def alert(html: str) -> str:
    """The message of the page's alert (a refusal, or a problem with the request)."""
    found = re.search(r'role="alert">([^<]*)<', html)
    assert found, "the problem is shown as an alert"
    return found.group(1)


def detail_of(page: Any) -> PostDetail:
    """What the post page was rendered from."""
    detail = page.context["detail"]
    assert isinstance(detail, PostDetail), page.template.name
    return detail


def review_of(page: Any) -> ReviewDetail:
    """What the review page was rendered from."""
    detail = page.context["detail"]
    assert isinstance(detail, ReviewDetail), page.template.name
    return detail


def drafted(cli: Cli, *args: str, account: str = "@DeptNews") -> Any:
    """A post by Alice (a press officer), as `draft --json` prints it."""
    return cli.json("draft", *ALICE, "-a", account, *args)


def audit_entries(cli: Cli, post_id: int) -> list[dict[str, Any]]:
    """The post's audit entries as `pressgate audit export` writes them."""
    lines = cli.ok("audit", "export").stdout.splitlines()
    entries = [json.loads(line) for line in lines]
    return [e for e in entries if e["subject"] == f"post:{post_id}"]


def apply_map(cli: Cli, tmp_path: Path, old: str, new: str) -> None:
    """Put a changed example map in force (the lead, Dana, holds `manage` everywhere)."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert old in text, old
    changed = tmp_path / "changed.toml"
    changed.write_text(text.replace(old, new, 1), encoding="utf-8")
    cli.ok("map", "apply", "--as", "dana@example.org", "--config", str(changed))


def publish_due(cli: Cli, settings: Settings) -> int:
    """One pass of the real dispatcher; returns how many posts it handled."""
    engine = cli.engine
    try:
        dispatcher = Dispatcher(
            engine=engine,
            publishers=publisher_factory(settings, engine, cli.clock),
            clock=cli.clock,
            worker="w1",
            notifier=RecordingNotifier(),
            policy=POLICY,
        )
        return dispatcher.run_once()
    finally:
        engine.dispose()


def stray(cli: Cli, post_id: int, x_post_id: str) -> None:
    """A copy of part 1 that a frozen worker landed on X after losing its claim."""
    engine = cli.engine
    try:
        with session_scope(engine) as session:
            record_stray(
                session,
                post_id=post_id,
                position=0,
                x_post_id=x_post_id,
                worker="w-frozen",
                now=cli.clock.now(),
            )
    finally:
        engine.dispose()


@contextmanager
def web_with(cli: Cli, settings: Settings) -> Iterator[Web]:
    """The web app as a browser sees it, with these settings (a publisher, for takedowns)."""
    app = create_app(settings, clock=cli.clock)
    try:
        with TestClient(app, client=TRUSTED) as client:
            yield Web(client, cli)
    finally:
        app.state.engine.dispose()


def sandbox_settings(cli: Cli) -> Settings:
    return web_settings(cli, sandbox=True)


@contextmanager
def on_fake_x(cli: Cli, handle: str = "@DeptHelp") -> Iterator[tuple[FakeX, Settings]]:
    """The fake X on loopback with `handle` connected, and web settings that publish to it."""
    with FakeX(clock=cli.clock.now) as fake:
        user = fake.add_user(handle.lstrip("@"))
        engine = cli.engine
        try:
            connect_account(engine, cli.clock, handle, user)
        finally:
            engine.dispose()
        settings = web_settings(
            cli,
            secret_key=SecretStr(SECRET),  # model_copy does not validate: give the types
            x_api_url=fake.base_url,
            x_consumer_key=SecretStr(fake.consumer_key),
            x_consumer_secret=SecretStr(fake.consumer_secret),
            x_client_id=SecretStr(fake.client_id),
            x_client_secret=SecretStr(fake.client_secret),
            x_timeout=2.0,
        )
        yield fake, settings
        assert not fake.server_errors, fake.server_errors
