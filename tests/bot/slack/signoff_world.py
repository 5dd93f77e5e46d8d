"""A press office wired to the fake X and the fake Slack: the web app (for Slack's signed
requests and the signed links), the dispatcher and the outbox's sender, all over one
database, with one clock the test moves by hand."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.clock import FrozenClock
from approvals.models import Notice
from bot.slack.sender import Sender
from bot.web.app import create_app
from tests.bot.publishing_world import World, connect_account, publishing_config, x_settings
from tests.bot.slack.conftest import ALICE, BOB, CAROL, SAM, Slack, slack_settings
from tests.factories import load_org
from tests.fakes.fake_slack import FakeSlack, Message
from tests.fakes.fake_x import FakeX

CHANNEL = "#press-approvals"
DUTY = "#press-duty"
SLACK_IDS = {
    "alice@example.org": ALICE,
    "bob@example.org": BOB,
    "carol@example.org": CAROL,
    "sam@example.org": SAM,
}


def slack_config() -> dict[str, Any]:
    """The publishing tests' map with everyone but Dana (a lead who may approve) on Slack."""
    raw = publishing_config()
    for person in raw["people"]:
        if person["email"] in SLACK_IDS:
            person["slack_id"] = SLACK_IDS[person["email"]]
    return raw


def signoff_config() -> dict[str, Any]:
    """Requests in a channel and by DM, pauses and blackouts told to a duty channel."""
    raw = slack_config()
    for account in raw["accounts"]:
        if account["kind"] == "corporate":
            account["slack_channel"] = CHANNEL
    raw["slack"] = {"duty_channel": DUTY}
    return raw


@dataclass
class SignOff:
    world: World
    slack: Slack
    fake: FakeSlack
    sender: Sender

    @property
    def clock(self) -> FrozenClock:
        return self.world.clock

    def send(self) -> int:
        """One pass of the outbox's sender, as the worker's job runs it."""
        return self.sender.run_once()

    def channel(self, name: str = CHANNEL) -> list[Message]:
        return self.fake.in_channel(name)

    def notices(self) -> list[Notice]:
        with Session(self.world.engine) as session:
            return list(session.exec(select(Notice).order_by(col(Notice.id))).all())


@contextmanager
def signoff_world(
    session: Session, engine: Engine, clock: FrozenClock, raw: dict[str, Any] | None = None
) -> Iterator[SignOff]:
    org = load_org(session, clock, raw or signoff_config())
    with FakeX(clock=clock.now) as fake_x, FakeSlack(clock=clock.now) as fake_slack:
        users = {name: fake_x.add_user(name) for name in ("DeptNews", "DeptHelp")}
        for name, user in users.items():
            connect_account(engine, clock, f"@{name}", user)
        url = engine.url.render_as_string(hide_password=False)
        settings = slack_settings(x_settings(fake_x, database_url=url), fake_slack)
        world = World(org=org, engine=engine, fake=fake_x, settings=settings, users=users)
        sender = Sender(settings=settings, engine=engine, clock=clock, worker="w1")
        app = create_app(settings, clock=clock)
        with TestClient(app) as client:
            yield SignOff(world, Slack(client, fake_slack, clock), fake_slack, sender)
        app.state.engine.dispose()
        assert not fake_x.server_errors, fake_x.server_errors
