"""Every call to X goes into the spend ledger at the map's prices; budgets warn, never block."""

import time
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from approvals.analytics.models import XCall
from approvals.analytics.prices import XPrices
from approvals.analytics.spend import cost_of_parts
from approvals.db import session_scope
from approvals.map_store import current_map, get_person
from approvals.models import Post, PostState
from bot.dispatcher import Dispatcher
from bot.publishers import publisher_factory
from bot.takedowns import take_down
from tests.bot.publishing_world import POLICY, World, publishing_config


def ledger(world: World) -> list[XCall]:
    with Session(world.engine) as session:
        return list(session.exec(select(XCall).order_by(col(XCall.id))).all())


def publish(world: World, *texts: str, account: str = "@DeptHelp") -> Post:
    post = world.approved(*texts, account=account)
    world.clock.advance(timedelta(minutes=2))
    Dispatcher(
        engine=world.engine,
        publishers=publisher_factory(world.settings, world.engine, world.clock, world.notifier),
        clock=world.clock,
        worker="w1",
        notifier=world.notifier,
        policy=POLICY,
    ).run_once()
    return world.post(post.id)


def reload_map(world: World, **overrides: Any) -> None:
    world.org.apply(publishing_config(**overrides))
    world.org.session.commit()


def test_a_post_with_a_link_is_priced_as_one_and_named_in_the_ledger(world: World) -> None:
    post = publish(world, "Read the guidance: https://example.org/guidance")
    assert post.state == PostState.PUBLISHED
    (call,) = ledger(world)
    assert (call.kind, call.endpoint, call.ok) == ("create_post_url", "POST /2/tweets", True)
    assert (call.charged, call.unit_price_micros, call.cost_micros) == (1, 200_000, 200_000)
    assert call.post_id == post.id and call.account_id == post.account_id
    assert call.via == "dispatch"


def test_a_thread_costs_each_part_and_prices_come_from_the_map(world: World) -> None:
    reload_map(world, x_prices={"create_post": 0.02})
    publish(world, "First part, no link.", "Second: https://example.org/more")
    calls = ledger(world)
    assert [(c.kind, c.cost_micros) for c in calls] == [
        ("create_post", 20_000),
        ("create_post_url", 200_000),
    ]


def test_a_failed_call_is_recorded_and_costs_nothing(world: World) -> None:
    world.fake.fail_next("POST", "/2/tweets", "429", reset_in=1)
    publish(world, "Rate limited first.")
    (call,) = ledger(world)
    assert (call.kind, call.ok, call.charged, call.cost_micros) == ("create_post", False, 0, 0)


def test_budgets_warn_the_author_at_80_percent_and_the_lead_at_100(world: World) -> None:
    reload_map(world, budgets={"accounts": {"@DeptHelp": 0.25}})
    first = publish(world, "One link https://example.org/a")  # $0.20: 80% of $0.25
    assert world.notifier.told == [("alice@example.org", "budget_warn", world.notifier.told[0][2])]
    assert "80% of the $0.25 budget" in world.notifier.told[0][2]
    second = publish(world, "Another link https://example.org/b")  # $0.40: 160%
    assert second.state == PostState.PUBLISHED  # a budget never blocks
    over = [(p, t) for p, t, _ in world.notifier.told[1:]]
    assert ("dana@example.org", "budget_over") in over  # the lead holds view_analytics
    publish(world, "A third https://example.org/c")  # each warning once a month
    assert len(world.notifier.told) == 1 + len(over)
    with Session(world.engine) as session:
        assert current_map(session).config.budgets.warn_percent == 80
    assert first.state == PostState.PUBLISHED


def test_a_takedown_records_its_delete_in_its_own_transaction_without_waiting(
    world: World,
) -> None:
    post = publish(world, "To be taken down.")
    started = time.monotonic()
    with session_scope(world.engine) as session:
        take_down(
            session,
            settings=world.settings,
            engine=world.engine,
            clock=world.clock,
            actor=get_person(session, "sam@example.org"),
            post_id=post.id or 0,
            reason="wrong figures",
        )
    assert time.monotonic() - started < 5  # a ledger transaction of its own would wait 30 s
    delete = ledger(world)[-1]
    assert (delete.kind, delete.via, delete.post_id, delete.cost_micros) == (
        "delete_post",
        "takedown",
        post.id,
        10_000,
    )
    assert world.post(post.id).state == PostState.TAKEN_DOWN


def test_publish_cost_is_per_part_and_says_whether_there_is_a_link(world: World) -> None:
    prices = XPrices()
    assert cost_of_parts(["No link here."], 0, prices).line == "no link: $0.015"
    assert cost_of_parts(["See example.org/x"], 0, prices).line == "contains a link: $0.20"
    thread = cost_of_parts(["One", "Two https://example.org", "Three"], 1, prices)
    assert (thread.micros, thread.line) == (230_000, "3 posts, 1 with a link: $0.23")
