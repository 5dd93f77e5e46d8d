"""The weekly digest to the strategy lead: last week's dashboard in a few lines.

Built from the same `Dashboard` as the page and the CSV. Every worker schedules the job
(APScheduler cron); the week's digest is claimed once in the database
(`approvals.analytics.once`), so it goes out once however many workers run. Each person who
may view analytics gets the figures of the accounts they may see.
"""

from datetime import date, datetime

from sqlmodel import Session

from approvals.analytics.dashboard import Dashboard, dashboard, last_weeks
from approvals.analytics.export import hours, rate
from approvals.analytics.once import claim_once
from approvals.analytics.prices import dollars
from approvals.config import Action
from approvals.map_store import current_map
from approvals.records import audit
from approvals.records.audit import SYSTEM


def weekly_digests(
    session: Session, *, today: date, now: datetime, worker: str
) -> list[tuple[str, str]]:
    """(person, text) for everyone with `view_analytics`, for the week before `today`'s;
    nothing if another worker has sent this week's digest already."""
    start, end = last_weeks(today)
    year, week, _ = start.isocalendar()
    if not claim_once(session, name=f"digest:{year}-W{week:02d}", worker=worker, now=now):
        return []
    pmap = current_map(session)
    readers = [
        p.email
        for p in pmap.config.people
        if any(
            pmap.can(p.email, Action.VIEW_ANALYTICS, a.handle) for a in pmap.corporate_accounts()
        )
    ]
    out = [
        (email, digest(dashboard(session, viewer=email, start=start, end=end))) for email in readers
    ]
    audit.record(
        session,
        actor=SYSTEM,
        action="analytics.digest",
        subject=f"week:{year}-W{week:02d}",
        at=now,
        details={"to": readers, "from": str(start), "to_day": str(end)},
    )
    return out


def digest(d: Dashboard) -> str:
    """The weekly digest for the strategy lead: a few lines, plain text."""
    p, g = d.performance, d.governance
    lines = [
        f"pressgate analytics, {d.start} to {d.end} ({d.account or 'all accounts'})",
        f"Posts: {p.total.posts}; impressions: {p.total.impressions:,}; "
        f"engagement rate: {rate(p.total)}%",
    ]
    if p.top:
        best = p.top[0]
        lines.append(f"Best post: {best.text[:80]!r} ({best.reach.impressions:,} impressions)")
    a = g.approval
    if a.count:
        lines.append(
            f"Approvals: {a.count}, median {hours(a.median)} h, 90% within {hours(a.p90)} h"
        )
    lines.append(
        f"Rejections: {sum(n for _r, n in g.rejections)}; late: {g.late}; failed: {g.failed}; "
        f"pauses: {g.pauses}; takedowns: {g.takedowns}"
    )
    spent = sum(s.micros for s in d.spend)
    lines.append(f"X spend: {dollars(spent)}")
    for b in d.budgets:
        if b.budget_micros is not None and b.scope == "all accounts":
            lines.append(
                f"Budget {b.month}: {dollars(b.micros)} of {dollars(b.budget_micros)} "
                f"({b.percent}%)"
            )
    return "\n".join(lines)
