"""Every figure of the dashboard against values worked out by hand (tests/approvals/
analytics_data.py says where each number comes from)."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from approvals.analytics.dashboard import Dashboard, dashboard, dashboard_asked
from approvals.analytics.digest import weekly_digests
from approvals.analytics.figures import Reach
from approvals.analytics.governance import Times
from approvals.analytics.models import TrackedPost
from approvals.clock import FrozenClock
from approvals.errors import InvalidInput, PermissionDenied
from approvals.models import Account
from tests.approvals.analytics_data import seed

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def board(session: Session, **kwargs: str) -> Dashboard:
    return dashboard(
        session, viewer="dana@example.org", start=NOVEMBER[0], end=NOVEMBER[1], **kwargs
    )


@pytest.fixture
def seeded(session: Session, clock: FrozenClock) -> Session:
    seed(session, clock)
    return session


def test_totals_and_the_engagement_rate(seeded: Session) -> None:
    total = board(seeded).performance.total
    assert total == Reach(posts=4, impressions=4600, engagements=156)
    assert round(total.rate, 4) == round(100 * 156 / 4600, 4) == 3.3913


def test_reach_by_day_of_publication(seeded: Session) -> None:
    days = {r.key: r.reach for r in board(seeded).performance.by_day}
    assert days == {
        "2026-11-02": Reach(2, 4000, 150),  # 1001 and 1002; 0999 is in October
        "2026-11-04": Reach(2, 600, 6),
    }
    assert days["2026-11-02"].rate == 3.75 and days["2026-11-04"].rate == 1.0


def test_heatmap_cells_are_weekday_and_hour_in_utc(seeded: Session) -> None:
    heat = board(seeded).performance.heatmap
    assert heat == {
        (0, 9): Reach(2, 4000, 150),  # Monday 2 November, 09:15 and 09:40
        (2, 14): Reach(1, 500, 5),  # Wednesday 4 November, 14:05
        (2, 15): Reach(1, 100, 1),
    }


def test_the_heatmap_places_a_post_at_its_accounts_local_hour(seeded: Session) -> None:
    news = seeded.exec(select(Account).where(Account.key == "deptnews")).one()
    assert news.id is not None and news.timezone == "Europe/London"
    seeded.add(
        TrackedPost(
            x_post_id="2001",
            account_id=news.id,
            published_at=datetime(2026, 7, 6, 8, 30, tzinfo=UTC),  # Monday, 09:30 BST
            impressions=700,
            likes=7,
        )
    )
    seeded.commit()
    july = dashboard(
        seeded, viewer="dana@example.org", start=date(2026, 7, 1), end=date(2026, 7, 31)
    )
    assert july.performance.heatmap == {(0, 9): Reach(1, 700, 7)}
    assert [r.key for r in july.performance.by_day] == ["2026-07-06"]


def test_by_campaign_and_by_template(seeded: Session) -> None:
    p = board(seeded).performance
    assert [(r.key, r.reach) for r in p.by_campaign] == [
        ("flu", Reach(2, 4000, 150)),
        ("(no campaign)", Reach(2, 600, 6)),
    ]
    assert [(r.key, r.reach) for r in p.by_template] == [
        ("(no template)", Reach(2, 3100, 101)),
        ("reminder", Reach(2, 1500, 55)),
    ]


def test_top_and_bottom_posts(seeded: Session) -> None:
    p = board(seeded).performance
    assert [r.x_post_id for r in p.top] == ["1002", "1001", "1003", "1004"]
    assert [r.x_post_id for r in p.bottom] == ["1004", "1003", "1001", "1002"]
    assert p.top[0].text == "Flu jabs: where to go." and p.top[0].reach.rate == 100 / 30
    assert p.bottom[0].text == "(posted outside pressgate)"


def test_follower_growth_takes_the_last_reading_of_each_day(seeded: Session) -> None:
    d = board(seeded)
    (news,) = [a for a, h in d.accounts.items() if h == "@DeptNews"]
    assert d.performance.followers == {news: [("2026-11-02", 110), ("2026-11-03", 125)]}


def test_filters_by_account_and_campaign(seeded: Session) -> None:
    assert board(seeded, account="@DeptHelp").performance.total == Reach(2, 600, 6)
    assert board(seeded, campaign="flu").performance.total == Reach(2, 4000, 150)


def test_submit_to_approval_median_and_90th_percentile(seeded: Session) -> None:
    g = board(seeded).governance
    assert g.approval == Times(4, 1.5, 6.0)  # 0.5 1 2 6: median (1+2)/2, p90 nearest rank 4
    assert g.by_approver == [
        ("bob@example.org", Times(2, 4.0, 6.0)),
        ("carol@example.org", Times(2, 0.75, 1.0)),
    ]
    assert g.by_account == [("@DeptHelp", Times(4, 1.5, 6.0))]


def test_governance_counts(seeded: Session) -> None:
    g = board(seeded).governance
    assert g.rejections == [("Wrong date", 1)]
    assert g.findings == [("personal_data.email", "block", 1)]
    assert (g.late, g.failed, g.pauses, g.takedowns) == (1, 1, 1, 0)
    assert (g.guidance_version, g.guidance_read, g.people) == (None, 0, 6)


def test_spend_by_month_account_and_kind_against_the_budget(seeded: Session) -> None:
    d = board(seeded)
    assert [(s.month, s.account, s.kind, s.calls, s.charged, s.micros) for s in d.spend] == [
        ("2026-11", "@DeptHelp", "create_post", 1, 0, 0),
        ("2026-11", "@DeptHelp", "owned_read", 1, 7, 7_000),
        ("2026-11", "@DeptNews", "create_post", 1, 1, 15_000),
        ("2026-11", "@DeptNews", "create_post_url", 1, 1, 200_000),
    ]
    assert [(b.scope, b.micros, b.budget_micros, b.percent) for b in d.budgets] == [
        ("all accounts", 222_000, 1_000_000, 22),
        ("@DeptHelp", 7_000, None, None),
        ("@DeptNews", 215_000, 250_000, 86),
    ]


def test_only_people_with_view_analytics_see_the_dashboard(seeded: Session) -> None:
    with pytest.raises(PermissionDenied, match="may not view_analytics on any account"):
        dashboard(seeded, viewer="alice@example.org", start=NOVEMBER[0], end=NOVEMBER[1])


def test_a_range_typed_wrong_says_what_is_wrong(seeded: Session) -> None:
    with pytest.raises(InvalidInput, match="from: '2026-13-01' is not a date"):
        dashboard_asked(seeded, viewer="dana@example.org", today=NOVEMBER[1], start="2026-13-01")
    with pytest.raises(InvalidInput, match=r"ends .* before it starts"):
        dashboard_asked(
            seeded,
            viewer="dana@example.org",
            today=NOVEMBER[1],
            start="2026-11-05",
            end="2026-11-01",
        )


def test_the_weekly_digest_goes_once_to_each_reader_with_last_weeks_figures(
    seeded: Session, clock: FrozenClock
) -> None:
    monday = date(2026, 11, 30)  # the digest covers Monday 23 to Sunday 29 November
    sent = weekly_digests(seeded, today=monday, now=clock.now(), worker="w1")
    assert [who for who, _text in sent] == ["dana@example.org"]
    text = sent[0][1]
    assert text.splitlines()[0] == "pressgate analytics, 2026-11-23 to 2026-11-29 (all accounts)"
    assert "Approvals: 4, median 1.50 h, 90% within 6.00 h" in text
    assert "Rejections: 1; late: 0; failed: 0; pauses: 1; takedowns: 0" in text
    assert weekly_digests(seeded, today=monday, now=clock.now(), worker="w2") == []
