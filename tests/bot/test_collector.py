"""The collector reads each account's own timeline only, each post at most once a UTC day
(unless asked), keeps snapshots that grow as the fake X's figures do, and bills once a day."""

import threading
from collections import Counter
from datetime import timedelta

from sqlmodel import Session, select

from approvals.analytics.models import (
    AccountSnapshot,
    AnalyticsClaim,
    PostSnapshot,
    TrackedPost,
    XCall,
    XRead,
)
from approvals.models import AuditEntry
from bot.collector import Collector
from bot.publishers import timeline_factory
from bot.worker import Worker
from tests.bot.publishing_world import World
from tests.bot.test_spend_ledger import publish, reload_map
from tests.fakes.notifier import RecordingNotifier

OWNED = "/2/users/{}/tweets"


def collector(world: World, worker: str = "w1") -> Collector:
    return Collector(
        engine=world.engine,
        timelines=timeline_factory(world.settings, world.engine, world.clock, world.notifier),
        clock=world.clock,
        worker=worker,
    )


def snapshots(world: World) -> list[PostSnapshot]:
    with Session(world.engine) as session:
        return list(session.exec(select(PostSnapshot)).all())


def reads_per_post_and_day(world: World) -> Counter[tuple[str, str]]:
    return Counter((s.x_post_id, f"{s.taken_at:%Y-%m-%d}") for s in snapshots(world))


def test_the_collector_reads_only_owned_endpoints_at_most_once_per_post_per_utc_day(
    world: World,
) -> None:
    world.fake.grow(impression_count=100, like_count=2)
    world.fake.set_followers(world.users["DeptHelp"], 1000, per_day=10)
    published = [publish(world, f"Post number {n} of the week.") for n in range(3)]
    before = len(world.fake.requests)
    for _hour in range(72):  # three days of hourly rounds
        world.clock.advance(timedelta(hours=1))
        collector(world).run_once()
    calls = world.fake.requests[before:]
    owned = {OWNED.format(u.id) for u in world.users.values()}
    assert calls and {(r.method, r.path) for r in calls} <= {("GET", p) for p in owned}
    per_day = reads_per_post_and_day(world)
    assert max(per_day.values()) == 1
    days = {day for _post, day in per_day}
    parts = {p.x_post_id for p in snapshots(world)}
    assert len(parts) == 3 and len(per_day) == 3 * len(days)  # and every post every day
    assert len(published) == 3
    with Session(world.engine) as session:
        billed = session.exec(select(XCall).where(XCall.via == "collector")).all()
        followers = [a.followers for a in session.exec(select(AccountSnapshot)).all()]
    users_billed = len({f"{c.at:%Y-%m-%d}" for c in billed if c.charged})  # once a day too
    posts_billed = sum(c.charged for c in billed) - users_billed
    assert posts_billed == len(per_day)
    assert all(c.kind == "owned_read" and c.unit_price_micros == 1000 for c in billed)
    assert followers == sorted(followers) and followers[-1] > followers[0]


def test_snapshots_show_the_growth_of_a_post_and_its_non_public_figures(world: World) -> None:
    world.fake.grow(impression_count=100, like_count=2)
    publish(world, "Growing post.")
    for _day in range(3):
        world.clock.advance(timedelta(days=1))
        collector(world).run_once()
    taken = sorted(snapshots(world), key=lambda s: s.taken_at)
    impressions = [s.impressions for s in taken]
    assert impressions == sorted(impressions) and impressions[0] < impressions[-1]
    assert impressions[1] - impressions[0] == 2400  # 24 hours at 100 an hour
    assert taken[-1].url_clicks == impressions[-1] // 50  # the account's own token sees them


def test_posts_older_than_30_days_are_read_weekly_with_public_figures_only(
    world: World,
) -> None:
    publish(world, "An old post.")
    world.clock.advance(timedelta(days=31))
    collector(world).run_once()  # first read: no non-public figures any more
    for _day in range(6):
        world.clock.advance(timedelta(days=1))
        collector(world).run_once()
    assert len(snapshots(world)) == 1
    world.clock.advance(timedelta(days=1))
    collector(world).run_once()
    assert len(snapshots(world)) == 2
    assert all(s.url_clicks is None for s in snapshots(world))


def test_one_worker_reads_an_account_in_an_hour_the_others_skip_it(world: World) -> None:
    publish(world, "Claimed once.")
    world.clock.advance(timedelta(hours=1))
    first = collector(world, "w1").run_once()
    second = collector(world, "w2").run_once()
    assert first.posts["@DeptHelp"] == 1
    assert second.skipped["@DeptHelp"] == "another worker has this hour"
    assert len(snapshots(world)) == 1


def test_asked_again_reads_a_post_twice_in_a_day_and_x_bills_it_once(world: World) -> None:
    publish(world, "Read it again.")
    world.clock.advance(timedelta(hours=1))
    collector(world).run_once()
    collector(world).run_once(asked=True, again=True)
    assert len(snapshots(world)) == 2
    with Session(world.engine) as session:
        billed = session.exec(select(XCall).where(XCall.via == "collector")).all()
    assert sum(c.resources for c in billed) == 4 and sum(c.charged for c in billed) == 2


def test_hourly_reads_on_the_first_day_when_the_map_asks_for_them(world: World) -> None:
    reload_map(world, analytics={"first_day_hourly": True})
    publish(world, "Hourly at first.")
    for _hour in range(30):
        world.clock.advance(timedelta(hours=1))
        collector(world).run_once()
    per_day = reads_per_post_and_day(world)
    assert max(per_day.values()) > 1  # asked for: more than once a day on day one
    with Session(world.engine) as session:
        post = session.exec(select(TrackedPost)).one()
        billed = session.exec(select(XCall).where(XCall.via == "collector")).all()
    assert post.last_read_at is not None
    posts_billed = [c for c in billed if c.charged]
    assert len({f"{c.at:%Y-%m-%d}" for c in posts_billed}) == len(posts_billed)


def test_the_workers_send_the_weekly_digest_once_through_the_notifier(world: World) -> None:
    other = RecordingNotifier()
    workers = [
        Worker(settings=world.settings, engine=world.engine, clock=world.clock, notifier=n)
        for n in (world.notifier, other)
    ]
    for worker in workers:
        worker.digest()
    assert [(who, topic) for who, topic, _ in world.notifier.told] == [
        ("dana@example.org", "digest")
    ]
    assert other.told == []
    assert "X spend: $0.00" in world.notifier.told[0][2]


def test_a_first_read_goes_back_30_days_not_to_the_accounts_first_post(world: World) -> None:
    user = world.users["DeptNews"]
    now = world.clock.now()
    old = world.fake.seed_post(user, "From last year.", created_at=now - timedelta(days=40))
    recent = world.fake.seed_post(user, "From last week.", created_at=now - timedelta(days=7))
    collector(world).run_once()
    read = {s.x_post_id for s in snapshots(world)}
    assert recent.id in read and old.id not in read  # posted outside pressgate, still counted


def test_billed_reads_of_past_days_and_old_claims_are_forgotten(world: World) -> None:
    publish(world, "Read, then forgotten.")
    world.clock.advance(timedelta(hours=1))
    collector(world).run_once()
    with Session(world.engine) as session:
        assert session.exec(select(XRead)).all()
    world.clock.advance(timedelta(days=3))
    collector(world).run_once()
    with Session(world.engine) as session:
        days = {r.day for r in session.exec(select(XRead)).all()}
        claims = session.exec(select(AnalyticsClaim)).all()
    assert days == {f"{world.clock.now():%Y-%m-%d}"}
    assert all(c.claimed_at > world.clock.now() - timedelta(days=2) for c in claims)


def test_a_rate_limit_ends_the_accounts_round_and_the_posts_wait_for_the_next(
    world: World,
) -> None:
    publish(world, "Rate limited read.")
    world.clock.advance(timedelta(hours=1))
    help_user = world.users["DeptHelp"]
    world.fake.fail_next("GET", OWNED.format(help_user.id), "429", times=1, reset_in=60)
    before = len(world.fake.requests)
    first = collector(world).run_once()
    assert first.skipped["@DeptHelp"].startswith("rate limited by X until")
    tried = [r for r in world.fake.requests[before:] if help_user.id in r.path]
    assert len(tried) == 1  # nothing more was asked of X for that account this round
    assert snapshots(world) == []
    world.clock.advance(timedelta(hours=1))
    collector(world).run_once()
    assert len(snapshots(world)) == 1


def test_reads_that_cross_the_warning_tell_no_one_and_the_next_author_hears_it(
    world: World,
) -> None:
    reload_map(
        world,
        x_prices={"create_post": 0.0001},
        budgets={"accounts": {"@DeptHelp": 0.0025}},
    )
    publish(world, "Cheap to publish here.")  # $0.0001: 4%
    world.clock.advance(timedelta(hours=1))
    collector(world).run_once()  # + $0.002 (the post and the profile): 84%
    assert world.notifier.told == []  # a read is for no post: no author to warn
    publish(world, "Another cheap one.")  # 88%: its author is the one told
    assert [(who, topic) for who, topic, _ in world.notifier.told] == [
        ("alice@example.org", "budget_warn")
    ]
    publish(world, "Now with a link https://example.org/x")  # over
    over = {(who, topic) for who, topic, _ in world.notifier.told[1:]}
    assert over == {("dana@example.org", "budget_over"), ("alice@example.org", "budget_over")}


def test_two_workers_at_the_same_moment_read_an_account_once(world: World) -> None:
    publish(world, "Claimed under contention.")
    world.clock.advance(timedelta(hours=1))
    start = threading.Barrier(2)

    def round_of(worker: str) -> None:
        start.wait()
        collector(world, worker).run_once()

    threads = [threading.Thread(target=round_of, args=(w,)) for w in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(snapshots(world)) == 1
    with Session(world.engine) as session:
        claims = session.exec(select(AnalyticsClaim)).all()
        rounds = session.exec(
            select(AuditEntry).where(AuditEntry.action == "analytics.collect")
        ).all()
    assert len([c for c in claims if c.name.startswith("collect:")]) == 2  # one per account
    assert sorted(r.subject for r in rounds) == ["account:@DeptHelp", "account:@DeptNews"]
