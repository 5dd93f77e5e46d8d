"""`/metrics`: Prometheus' text format, every figure present, moving as posts move, and
answered only to a loopback client or one that shows the metrics token."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlmodel import Session

from approvals.models import Notice, PostState
from bot.settings import Settings
from bot.web.app import create_app
from bot.worker import Worker
from tests.bot.conftest import Cli
from tests.bot.publishing_world import World

LOOPBACK = ("127.0.0.1", 50000)
FAMILIES = (
    "pressgate_posts",
    "pressgate_publish_lateness_seconds",
    "pressgate_publish_overdue_seconds",
    "pressgate_x_errors",
    "pressgate_x_rate_limit_waits",
    "pressgate_approval_turnaround_seconds",
    "pressgate_audit_head_seq",
    "pressgate_outbox_depth",
)


def settings_of(world: World, **changes: object) -> Settings:
    url = world.engine.url.render_as_string(hide_password=False)
    return world.settings.model_copy(update={"database_url": url, **changes})


@pytest.fixture
def scrape(world: World) -> Iterator[TestClient]:
    app = create_app(settings_of(world), clock=world.clock)
    with TestClient(app, client=LOOPBACK) as client:
        yield client


def figures(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    values = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def one(
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return values[(name, tuple(sorted(labels.items())))]


def test_every_metric_is_present_and_moves_when_posts_move(
    world: World, scrape: TestClient
) -> None:
    before = figures(scrape)
    names = {name for name, _ in before}
    for family in FAMILIES:
        assert any(n == family or n.startswith(family + "_") for n in names), family
    assert one(before, "pressgate_posts", state="published") == 0

    post = world.approved("Rate limited first")
    world.clock.advance(timedelta(seconds=30))  # approved, not yet due
    waiting = figures(scrape)
    assert (
        one(waiting, "pressgate_posts", state="queued")
        == one(before, "pressgate_posts", state="queued") + 1
    )
    assert one(waiting, "pressgate_approval_turnaround_seconds_count") == 1
    assert one(waiting, "pressgate_audit_head_seq") > one(before, "pressgate_audit_head_seq")

    world.clock.advance(timedelta(seconds=40))  # 10 s past due, still waiting
    assert one(figures(scrape), "pressgate_publish_overdue_seconds") == pytest.approx(10, abs=1)

    world.fake.fail_next("POST", "/2/tweets", "429", reset_in=1)
    world.run()
    limited = figures(scrape)
    assert one(limited, "pressgate_x_rate_limit_waits_total") == 1
    assert one(limited, "pressgate_x_errors_total", outcome="retry") == 1
    assert one(limited, "pressgate_posts", state="failed") == 1

    world.clock.advance(timedelta(minutes=2))
    world.run()
    assert world.post(post.id).state == PostState.PUBLISHED
    after = figures(scrape)
    assert one(after, "pressgate_posts", state="published") == 1
    assert one(after, "pressgate_posts", state="failed") == 0
    assert one(after, "pressgate_publish_lateness_seconds_count") == 1
    late = one(after, "pressgate_publish_lateness_seconds_sum")
    assert 120 < late < 200  # published about two and a half minutes after its time
    assert one(after, "pressgate_publish_lateness_seconds_bucket", le="60.0") == 0
    assert one(after, "pressgate_publish_lateness_seconds_bucket", le="+Inf") == 1
    assert one(after, "pressgate_publish_overdue_seconds") == 0
    assert one(after, "pressgate_x_errors_total", outcome="failed") == 0
    assert one(after, "pressgate_audit_head_seq") > one(limited, "pressgate_audit_head_seq")


def test_the_outbox_depth_counts_the_notices_waiting_to_be_sent(
    world: World, scrape: TestClient
) -> None:
    before = one(figures(scrape), "pressgate_outbox_depth")
    now = world.clock.now()
    with Session(world.engine) as session:
        for n, state in enumerate(["pending", "pending", "sent", "dropped", "failed"]):
            session.add(
                Notice(
                    kind="notice",
                    queue=f"test-{n}",
                    text="hello",
                    created_at=now,
                    due_at=now,
                    state=state,
                )
            )
        session.commit()
    assert one(figures(scrape), "pressgate_outbox_depth") == before + 2


def test_metrics_refuse_a_client_that_is_not_on_loopback(world: World) -> None:
    app = create_app(settings_of(world), clock=world.clock)
    with TestClient(app, client=("203.0.113.9", 40000)) as client:
        refused = client.get("/metrics")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "PRESSGATE_METRICS_TOKEN" in refused.json()["detail"]


def test_with_a_token_metrics_answer_only_the_bearer_of_it(world: World) -> None:
    token = "metrics-token-0123456789-abcdefghij"
    app = create_app(settings_of(world, metrics_token=SecretStr(token)), clock=world.clock)
    with TestClient(app, client=LOOPBACK) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "pressgate_posts" in right.text


def test_readyz_says_whether_the_scheduler_runs_where_expected(cli: Cli) -> None:
    settings = cli.settings.model_copy(update={"sandbox": True})
    app = create_app(settings, clock=cli.clock)
    engine = cli.engine
    with TestClient(app, client=LOOPBACK) as client:
        assert client.get("/readyz").json()["scheduler"] == "elsewhere"  # as --web-only
        worker = Worker(settings=settings, engine=engine, clock=cli.clock)
        app.state.scheduler = worker  # as `pressgate run` does
        worker.start()
        try:
            assert client.get("/readyz").json()["scheduler"] == "running"
            assert one(figures(client), "pressgate_scheduler_running") == 1
        finally:
            worker.stop()
            engine.dispose()
        stopped = client.get("/readyz")
        assert stopped.status_code == 503
        assert stopped.json()["reason"] == "scheduler stopped"


def test_an_empty_metrics_token_is_no_token(world: World) -> None:
    app = create_app(settings_of(world, metrics_token=SecretStr("")), clock=world.clock)
    with TestClient(app, client=("203.0.113.9", 40000)) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_x_errors_count_what_x_answered_not_the_retries_pressgate_decides(
    world: World, scrape: TestClient
) -> None:
    post = world.approved("Timed out before X saw it")
    world.fake.fail_next("POST", "/2/tweets", "timeout_before")
    for _ in range(6):  # unknown outcome, a reconcile that finds nothing, a retry, published
        world.clock.advance(timedelta(minutes=1))
        world.run()
        if world.post(post.id).state == PostState.PUBLISHED:
            break
    assert world.post(post.id).state == PostState.PUBLISHED
    assert "post.reconciled" in world.actions(post.id)
    after = figures(scrape)
    assert one(after, "pressgate_x_errors_total", outcome="unknown") == 1
    assert one(after, "pressgate_x_errors_total", outcome="retry") == 0
    assert one(after, "pressgate_x_errors_total", outcome="failed") == 0
    assert one(after, "pressgate_x_rate_limit_waits_total") == 0
