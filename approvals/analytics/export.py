"""The dashboard as CSV rows and as the weekly digest's text: both read one `Dashboard`, so
the page, the file and the message show the same figures.

The CSV is long ("tidy"): `section, group, metric, value`, one figure a line, so every
figure of the page is in it and a spreadsheet pivots it any way.
"""

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from approvals.analytics.dashboard import Dashboard
from approvals.analytics.figures import Reach
from approvals.analytics.governance import Times
from approvals.analytics.prices import dollars

HEADER = ["section", "group", "metric", "value"]
_HANDLE = re.compile(r"@[A-Za-z0-9_]{1,15}( [0-9-]{7,10})?")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def rate(reach: Reach) -> str:
    return f"{reach.rate:.2f}"


def _reach(section: str, group: str, reach: Reach) -> Iterator[list[str]]:
    yield [section, group, "posts", str(reach.posts)]
    yield [section, group, "impressions", str(reach.impressions)]
    yield [section, group, "engagements", str(reach.engagements)]
    yield [section, group, "engagement_rate_percent", rate(reach)]


def _times(group: str, t: Times) -> Iterator[list[str]]:
    yield ["approval_hours", group, "approvals", str(t.count)]
    yield ["approval_hours", group, "median", hours(t.median)]
    yield ["approval_hours", group, "p90", hours(t.p90)]


def hours(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def rows(d: Dashboard) -> Iterator[list[str]]:
    p, g = d.performance, d.governance
    scope = d.account or "all accounts"
    yield ["range", f"{d.start} to {d.end}", "accounts", scope]
    yield ["range", f"{d.start} to {d.end}", "campaign", d.campaign or "all"]
    yield from _reach("total", scope, p.total)
    for row in p.by_day:
        yield from _reach("day", row.key, row.reach)
    for account_id, days in p.followers.items():
        for day, count in days:
            yield ["followers", f"{d.accounts.get(account_id, '?')} {day}", "followers", str(count)]
    for (weekday, hour), reach in sorted(p.heatmap.items()):
        yield from _reach("hour_weekday_local", f"{WEEKDAYS[weekday]} {hour:02d}:00", reach)
    for row in p.by_template:
        yield from _reach("template", row.key, row.reach)
    for row in p.by_campaign:
        yield from _reach("campaign", row.key, row.reach)
    for label, posts in (("top", p.top), ("bottom", p.bottom)):
        for post in posts:
            yield from _reach(f"{label}_posts", post.x_post_id, post.reach)
    yield from _times("all", g.approval)
    for email, t in g.by_approver:
        yield from _times(email, t)
    for handle, t in g.by_account:
        yield from _times(handle, t)
    for reason, count in g.rejections:
        yield ["rejections", reason, "count", str(count)]
    for rule, severity, count in g.findings:
        yield ["findings", f"{rule} ({severity})", "count", str(count)]
    for metric in ("late", "failed", "pauses", "takedowns"):
        yield ["governance", scope, metric, str(getattr(g, metric))]
    yield ["guidance", f"version {g.guidance_version or '-'}", "read", str(g.guidance_read)]
    yield ["guidance", f"version {g.guidance_version or '-'}", "people", str(g.people)]
    for s in d.spend:
        group = f"{s.month} {s.account} {s.kind}"
        yield ["spend", group, "calls", str(s.calls)]
        yield ["spend", group, "billed_units", str(s.charged)]
        yield ["spend", group, "dollars", dollars(s.micros).lstrip("$").replace(",", "")]
    for b in d.budgets:
        group = f"{b.month} {b.scope}"
        yield ["budget", group, "spent_dollars", dollars(b.micros).lstrip("$").replace(",", "")]
        if b.budget_micros is not None:
            budget = dollars(b.budget_micros).lstrip("$").replace(",", "")
            yield ["budget", group, "budget_dollars", budget]
            yield ["budget", group, "percent", str(b.percent)]


def to_csv(d: Dashboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows(d):
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()


def _safe(value: str) -> str:
    """A cell a spreadsheet would run as a formula (a template or reason typed by someone)
    is quoted with a leading apostrophe; numbers and account handles are left as they are."""
    if value[:1] not in ("=", "+", "-", "@") or _number(value) or _HANDLE.fullmatch(value):
        return value
    return "'" + value


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def chart_data(d: Dashboard) -> dict[str, Any]:
    """The series the page's charts draw (its tables show the same figures)."""
    p = d.performance
    months = sorted({b.month for b in d.budgets})
    overall = {b.month: b for b in d.budgets if b.scope == "all accounts"}
    return {
        "days": [r.key for r in p.by_day],
        "posts": [r.reach.posts for r in p.by_day],
        "impressions": [r.reach.impressions for r in p.by_day],
        "followers": [
            {"label": d.accounts.get(a, "?"), "points": [{"x": k, "y": v} for k, v in days]}
            for a, days in p.followers.items()
        ],
        "campaigns": [r.key for r in p.by_campaign],
        "campaign_impressions": [r.reach.impressions for r in p.by_campaign],
        "months": months,
        "spent": [overall[m].micros / 1_000_000 for m in months],
        "budget": [
            (overall[m].budget_micros or 0) / 1_000_000 if overall[m].budget_micros else None
            for m in months
        ],
    }
