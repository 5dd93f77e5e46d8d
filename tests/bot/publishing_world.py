"""A press office wired to the fake X: accounts connected with real (fake-issued) tokens, a
dispatcher with short timings, and a clock the test moves by hand."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.clock import FrozenClock
from approvals.db import session_scope
from approvals.delivery.credentials import XTokens, connect
from approvals.map_store import get_person
from approvals.models import AuditEntry, Post
from bot.dispatcher import Dispatcher
from bot.jobs import DispatchPolicy
from bot.publishers import publisher_factory
from bot.settings import Settings
from tests.factories import AUDIT_KEY, Org, small_config
from tests.fakes.fake_x import FakeUser, FakeX
from tests.fakes.notifier import RecordingNotifier

SECRET = "test-secret-key-that-is-long-enough-0123456789"

POLICY = DispatchPolicy(
    concurrency=4,
    lease=timedelta(minutes=5),
    settle_after=timedelta(seconds=30),
    retry_base=timedelta(seconds=5),
    retry_max=timedelta(minutes=2),
    max_attempts=5,
)


def publishing_config(**overrides: Any) -> dict[str, Any]:
    raw = small_config()
    raw["roles"]["duty"] = {"actions": ["pause", "takedown"], "accounts": ["*"]}
    raw["people"].append({"email": "sam@example.org", "roles": ["duty"]})
    raw["people"].append({"email": "lee@example.org", "roles": ["duty"]})
    raw.update(overrides)
    return raw


@dataclass
class World:
    org: Org
    engine: Engine
    fake: FakeX
    settings: Settings
    users: dict[str, FakeUser]
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)

    @property
    def clock(self) -> FrozenClock:
        return self.org.clock

    def dispatcher(self, worker: str = "w1", policy: DispatchPolicy = POLICY) -> Dispatcher:
        return Dispatcher(
            engine=self.engine,
            publishers=publisher_factory(self.settings, self.engine, self.clock),
            clock=self.clock,
            worker=worker,
            notifier=self.notifier,
            policy=policy,
        )

    def run(self) -> int:
        return self.dispatcher().run_once()

    def approved(self, *parts: str, account: str = "@DeptHelp", **kwargs: Any) -> Post:
        """A post approved by enough people and due in a minute (the test advances to it)."""
        post = self.org.submitted(
            parts=list(parts), account=account, scheduled_in=timedelta(minutes=1), **kwargs
        )
        approvers = ["bob@example.org", "carol@example.org"]
        self.org.approve(post, *approvers[: 2 if account == "@DeptNews" else 1])
        self.org.session.commit()
        return post

    def post(self, post_id: int | None) -> Post:
        with Session(self.engine) as session:
            post = session.get(Post, post_id)
            assert post is not None
            return post

    def actions(self, post_id: int | None) -> list[str]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(AuditEntry.action)
                    .where(AuditEntry.subject == f"post:{post_id}")
                    .order_by(col(AuditEntry.seq))
                ).all()
            )

    def fake_user_token(self, user: str) -> str:
        return self.users[user].bearer_token

    def on_x(self, user: str = "DeptHelp") -> list[str]:
        uid = self.users[user].id
        return [p.text for p in self.fake.posts if p.author_id == uid and not p.deleted]


def connect_account(
    engine: Engine, clock: FrozenClock, handle: str, user: FakeUser, *, oauth2: bool = False
) -> None:
    tokens = (
        XTokens("oauth2", access_token=user.bearer_token, refresh_token=user.refresh_token)
        if oauth2
        else XTokens(
            "oauth1", access_token=user.access_token, access_token_secret=user.access_token_secret
        )
    )
    with session_scope(engine) as session:
        connect(
            session,
            actor=get_person(session, "dana@example.org"),
            account_handle=handle,
            tokens=tokens,
            x_user_id=user.id,
            x_username=user.username,
            secret_key=SECRET,
            now=clock.now(),
        )


def x_settings(fake: FakeX, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "secret_key": SECRET,
        "audit_key": AUDIT_KEY,
        "x_api_url": fake.base_url,
        "x_consumer_key": fake.consumer_key,
        "x_consumer_secret": fake.consumer_secret,
        "x_client_id": fake.client_id,
        "x_client_secret": fake.client_secret,
        "x_timeout": 0.5,
    }
    values.update(overrides)
    return Settings(**values)
