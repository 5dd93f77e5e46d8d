"""The /analytics page and its CSV, and `pressgate analytics export`, over known figures
(tests/approvals/analytics_data.py works each one out by hand)."""

import csv
import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from tests.approvals.analytics_data import seed
from tests.bot.conftest import Cli
from tests.bot.web.conftest import Web
from tests.bot.web.test_journey import Person

NOVEMBER = "from=2026-11-01&to=2026-11-30"
DANA = ("--as", "dana@example.org")


@pytest.fixture
def seeded(cli: Cli) -> Iterator[Cli]:
    engine = cli.engine
    with Session(engine, expire_on_commit=False) as session:
        seed(session, cli.clock)
    engine.dispose()
    yield cli


def figures(text: str) -> dict[tuple[str, str, str], str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "group", "metric", "value"]
    return {(s, g, m): v for s, g, m, v in rows[1:]}


def test_the_export_has_every_figure_worked_out_by_hand(seeded: Cli) -> None:
    out = seeded.ok("analytics", "export", *DANA, "--from", "2026-11-01", "--to", "2026-11-30")
    f = figures(out.stdout)
    assert f["total", "all accounts", "posts"] == "4"
    assert f["total", "all accounts", "impressions"] == "4600"
    assert f["total", "all accounts", "engagement_rate_percent"] == "3.39"  # 156 / 4600
    assert f["day", "2026-11-02", "engagement_rate_percent"] == "3.75"
    assert f["day", "2026-11-04", "impressions"] == "600"
    assert f["hour_weekday_local", "Mon 09:00", "impressions"] == "4000"
    assert f["hour_weekday_local", "Wed 14:00", "engagement_rate_percent"] == "1.00"
    assert f["campaign", "flu", "posts"] == "2"
    assert f["template", "reminder", "engagement_rate_percent"] == "3.67"  # 55 / 1500
    assert f["followers", "@DeptNews 2026-11-02", "followers"] == "110"
    assert f["approval_hours", "all", "median"] == "1.50"
    assert f["approval_hours", "all", "p90"] == "6.00"
    assert f["approval_hours", "carol@example.org", "median"] == "0.75"
    assert f["rejections", "Wrong date", "count"] == "1"
    assert f["findings", "personal_data.email (block)", "count"] == "1"
    assert f["governance", "all accounts", "late"] == "1"
    assert f["spend", "2026-11 @DeptNews create_post_url", "dollars"] == "0.20"
    assert f["spend", "2026-11 @DeptHelp owned_read", "dollars"] == "0.007"
    assert f["budget", "2026-11 all accounts", "spent_dollars"] == "0.222"
    assert f["budget", "2026-11 @DeptNews", "percent"] == "86"
    assert f["top_posts", "1002", "impressions"] == "3000"


def test_the_export_of_one_account_has_only_its_figures(seeded: Cli) -> None:
    out = seeded.ok(
        "analytics",
        "export",
        *DANA,
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--account",
        "@DeptHelp",
    )
    f = figures(out.stdout)
    assert f["total", "@DeptHelp", "impressions"] == "600"
    assert not [k for k in f if k[0] == "spend" and "@DeptNews" in k[1]]


def test_a_bad_date_is_one_line_and_exit_2(seeded: Cli) -> None:
    result = seeded("analytics", "export", *DANA, "--from", "1 Nov")
    assert result.exit_code == 2
    assert "from: '1 Nov' is not a date as YYYY-MM-DD" in result.stderr


def test_the_page_shows_the_figures_and_the_download_is_the_export(seeded: Cli, web: Web) -> None:
    page = web.sign_in("dana@example.org").client.get(f"/analytics?{NOVEMBER}")
    assert page.status_code == 200, page.text
    assert page.template.name == "pages/analytics.html"
    d = page.context["d"]
    assert (d.performance.total.posts, d.performance.total.impressions) == (4, 4600)
    assert '<dd id="fig-rate">3.39%</dd>' in page.text
    assert 'data-cell="0-9">4,000<br><small>3.75%</small>' in page.text
    assert "/static/vendor/chartjs/chart.umd.min.js" in page.text
    download = web.client.get(f"/analytics/export.csv?{NOVEMBER}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    cli_out = seeded.ok("analytics", "export", *DANA, "--from", "2026-11-01", "--to", "2026-11-30")
    assert download.text == cli_out.stdout


def test_someone_without_view_analytics_is_refused(seeded: Cli, web: Web) -> None:
    page = web.sign_in("alice@example.org").client.get(f"/analytics?{NOVEMBER}")
    assert page.status_code == 403
    assert "may not view_analytics" in page.text


def test_a_bad_date_on_the_page_is_a_422_not_a_500(seeded: Cli, web: Web) -> None:
    page = web.sign_in("dana@example.org").client.get("/analytics?from=2026-02-31")
    assert page.status_code == 422, page.text
    assert "is not a date" in page.text


@pytest.mark.slow
def test_the_dashboard_in_chromium_draws_its_charts(
    browser: Browser, proxy_server: str, seeded: Cli
) -> None:
    dana = Person(browser, proxy_server, "dana@example.org")
    page = dana.open(f"/analytics?{NOVEMBER}")
    expect(page.locator("h1")).to_have_text("Analytics")
    expect(page.locator("#fig-posts")).to_have_text("4")
    drawn = page.evaluate(
        "() => ['chart-days', 'chart-followers', 'chart-campaigns', 'chart-spend']"
        ".map(id => Chart.getChart(document.getElementById(id)) !== undefined)"
    )
    assert drawn == [True, True, True, True]
    expect(page.locator("#table-heatmap td[data-cell='0-9']")).to_contain_text("4,000")
    dana.check("analytics")  # axe-core, and tests/artifacts/analytics.png
    dana.close()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("account=%21%21%21", 422),  # not a handle
        ("account=%40Nobody", 404),
        ("account=%40MinisterOwn", 403),  # personal: no analytics
        ("from=2025-01-01&to=2026-11-30", 422),  # more than a year
        ("campaign=" + "x" * 300, 422),  # longer than any tag
    ],
)
def test_what_the_form_cannot_mean_is_a_4xx(seeded: Cli, web: Web, query: str, status: int) -> None:
    page = web.sign_in("dana@example.org").client.get(f"/analytics?{query}")
    assert page.status_code == status, page.text
