"""Known snapshots, ledger rows and decisions, with every dashboard figure worked out by hand.

Shared by the figure tests, the CSV tests and the browser test. November 2026; the clock
stands at 2026-11-24 12:00 UTC (tests.conftest.NOW).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from approvals.analytics.models import AccountSnapshot, TrackedPost, XCall
from approvals.delivery import controls
from approvals.models import Account, Post, PostState
from approvals.posts import current_revision, revision_parts
from approvals.signoff import review
from tests.factories import Org, load_org, small_config


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def analytics_config() -> dict[str, Any]:
    raw = small_config(budgets={"monthly": 1.0, "accounts": {"@DeptNews": 0.25}})
    raw["roles"]["duty"] = {"actions": ["pause"], "accounts": ["*"]}
    raw["people"].append({"email": "sam@example.org", "roles": ["duty"]})
    return raw


def seed(session: Session, clock: Any) -> Org:
    org = load_org(session, clock, analytics_config())
    news = _account(session, "deptnews")
    help_ = _account(session, "depthelp")
    # Posts for the performance figures (their words do not matter, their tags do).
    p1 = org.draft("Flu jabs: book now.", account="@DeptNews")
    p2 = org.draft("Flu jabs: where to go.", account="@DeptNews")
    p3 = org.draft("Help desk hours.", account="@DeptHelp")
    p1.campaign, p1.template = "flu", "reminder"
    p2.campaign = "flu"
    p3.template = "reminder"
    p1.scheduled_at, p1.published_at = at(2, 9, 0), at(2, 9, 15)  # 15 minutes late
    p2.scheduled_at, p2.published_at = at(2, 9, 40), at(2, 9, 40)  # on time
    p3.state, p3.updated_at = PostState.FAILED, at(4, 14, 5)
    session.add_all([p1, p2, p3])
    session.flush()
    tracked = [
        ("1001", news, p1, at(2, 9, 15), (1000, 30, 10, 5, 3, 2)),
        ("1002", news, p2, at(2, 9, 40), (3000, 60, 20, 10, 5, 5)),
        ("1003", help_, p3, at(4, 14, 5), (500, 5, 0, 0, 0, 0)),
        ("1004", help_, None, at(4, 15, 0), (100, 1, 0, 0, 0, 0)),  # posted outside pressgate
        ("0999", news, None, at(31, 23, 59, month=10), (9999, 99, 0, 0, 0, 0)),  # before range
    ]
    for x_id, account, post, published, m in tracked:
        if post is not None:  # as the dispatcher records it
            (part,) = revision_parts(session, current_revision(session, post))
            part.x_post_id = x_id
            session.add(part)
        session.add(
            TrackedPost(
                x_post_id=x_id,
                account_id=account,
                post_id=post.id if post else None,
                published_at=published,
                last_read_at=at(24, 11),
                impressions=m[0],
                likes=m[1],
                reposts=m[2],
                replies=m[3],
                quotes=m[4],
                bookmarks=m[5],
            )
        )
    for when, count in ((at(2, 8), 100), (at(2, 20), 110), (at(3, 8), 125)):
        session.add(AccountSnapshot(account_id=news, taken_at=when, followers=count))
    ledger = [
        (at(3, 10), news, "create_post_url", 1, 1, 200_000, True),
        (at(3, 11), news, "create_post", 1, 1, 15_000, True),
        (at(10, 6), help_, "owned_read", 10, 7, 7_000, True),
        (at(12, 6), help_, "create_post", 1, 0, 0, False),
        (at(31, 6, month=10), news, "create_post", 1, 1, 15_000, True),  # before range
    ]
    for when, account, kind, resources, charged, cost, ok in ledger:
        session.add(
            XCall(
                at=when,
                account_id=account,
                kind=kind,
                endpoint="-",
                resources=resources,
                charged=charged,
                unit_price_micros=cost // charged if charged else 0,
                cost_micros=cost,
                ok=ok,
            )
        )
    session.flush()
    _decisions(org)
    session.commit()
    return org


def _decisions(org: Org) -> None:
    """Four approvals on @DeptHelp after 0.5, 1, 2 and 6 hours; one rejection; one finding;
    one pause. All submitted at 2026-11-24 12:00."""
    posts = [org.submitted(f"Decided post {n}.", account="@DeptHelp") for n in range(5)]
    org.draft("Write to me at someone@example.org", account="@DeptHelp")  # a finding
    start = org.clock.now()
    for post, hours, who in zip(
        posts, (0.5, 1, 2, 6), ("carol", "carol", "bob", "bob"), strict=False
    ):
        org.clock.set(start + timedelta(hours=hours))
        org.approve(post, f"{who}@example.org")
    assert posts[4].id is not None
    review.reject(
        org.session,
        actor=org.person("bob@example.org"),
        post_id=posts[4].id,
        revision_hash=org.current_hash(posts[4]),
        reason="Wrong date",
        now=org.clock.now(),
    )
    controls.pause(org.session, actor=org.person("sam@example.org"), now=org.clock.now())


def _account(session: Session, key: str) -> int:
    from sqlmodel import select

    account = session.exec(select(Account).where(Account.key == key)).one()
    assert account.id is not None
    return account.id


__all__ = ["Post", "at", "seed"]
