"""The strategy lead's dashboard: one function gathers every figure for a viewer, accounts,
campaign and date range, after checking the viewer's `view_analytics` right.

The page, the CSV export and the weekly digest all read from here, so they cannot disagree.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, func, select

from approvals.analytics import sql
from approvals.analytics.figures import Filters, Performance, performance
from approvals.analytics.governance import Governance, governance
from approvals.analytics.models import XCall
from approvals.analytics.prices import MICROS
from approvals.config import Action, normalise_handle
from approvals.errors import InvalidInput, PermissionDenied
from approvals.map_store import current_map
from approvals.models import Account, Post

MAX_DAYS = 366


@dataclass(frozen=True)
class SpendRow:
    month: str  # YYYY-MM, UTC
    account: str  # handle, or "(no account)"
    kind: str
    calls: int
    charged: int
    micros: int


@dataclass(frozen=True)
class Budgeted:
    month: str
    scope: str  # a handle, or "all accounts"
    micros: int
    budget_micros: int | None

    @property
    def percent(self) -> int | None:
        return self.micros * 100 // self.budget_micros if self.budget_micros else None


@dataclass
class Dashboard:
    filters: Filters
    start: date
    end: date
    account: str | None  # the one account asked for, or None for all the viewer may see
    campaign: str | None
    accounts: dict[int, str]  # id -> handle, those shown
    choices: list[str]  # handles the viewer may look at
    campaigns: list[str]
    performance: Performance
    governance: Governance
    spend: list[SpendRow]
    budgets: list[Budgeted]


def viewable(session: Session, email: str) -> list[Account]:
    pmap = current_map(session)
    accounts = session.exec(
        select(Account).where(Account.kind == "corporate").order_by(col(Account.key))
    ).all()
    return [a for a in accounts if pmap.can(email, Action.VIEW_ANALYTICS, a.handle)]


def dashboard(
    session: Session,
    *,
    viewer: str,
    start: date,
    end: date,
    account: str | None = None,
    campaign: str | None = None,
) -> Dashboard:
    if end < start:
        raise InvalidInput(f"the range ends ({end}) before it starts ({start})")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"a range is at most {MAX_DAYS} days (asked {start} to {end})")
    mine = viewable(session, viewer)
    if not mine:
        raise PermissionDenied(f"{viewer} may not view_analytics on any account")
    shown = mine
    if account is not None:
        try:
            key = normalise_handle(account)
        except ValueError as error:
            raise InvalidInput(f"account: {error}") from None
        current_map(session).require(viewer, Action.VIEW_ANALYTICS, account)
        shown = [a for a in mine if a.key == key]
    accounts = {a.id: a.handle for a in shown if a.id is not None}
    f = Filters(start, end, tuple(accounts), campaign or None)
    spent = spend(session, f, accounts)
    return Dashboard(
        filters=f,
        start=start,
        end=end,
        account=shown[0].handle if account is not None else None,
        campaign=f.campaign,
        accounts=accounts,
        choices=[a.handle for a in mine],
        campaigns=_campaigns(session, tuple(a.id for a in mine if a.id is not None)),
        performance=performance(session, f),
        governance=governance(session, f),
        spend=spent,
        budgets=budgets(session, f, accounts, spent),
    )


def dashboard_asked(
    session: Session,
    *,
    viewer: str,
    today: date,
    start: str = "",
    end: str = "",
    account: str = "",
    campaign: str = "",
) -> Dashboard:
    """The dashboard from what a person typed (the page's form, the CLI's options): empty
    fields mean the last 28 days, every account the viewer may see, every campaign."""
    last = parse_day("to", end) if end.strip() else today
    first = parse_day("from", start) if start.strip() else last - timedelta(days=27)
    return dashboard(
        session,
        viewer=viewer,
        start=first,
        end=last,
        account=account.strip() or None,
        campaign=campaign.strip() or None,
    )


def parse_day(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {text.strip()[:40]!r} is not a date as YYYY-MM-DD") from None


def _campaigns(session: Session, account_ids: tuple[int, ...]) -> list[str]:
    rows = session.exec(
        select(Post.campaign)
        .where(col(Post.account_id).in_(account_ids), col(Post.campaign).is_not(None))
        .distinct()
        .order_by(col(Post.campaign))
    ).all()
    return [r for r in rows if r]


def spend(session: Session, f: Filters, accounts: dict[int, str]) -> list[SpendRow]:
    """What X billed, by month, account and kind of call, in the range. Calls that are not
    for one account (none so far) show only when all accounts are shown."""
    month = sql.month(session, XCall.at)
    query = (
        select(  # type: ignore[call-overload]
            month,
            XCall.account_id,
            XCall.kind,
            func.count(),
            func.sum(XCall.charged),
            func.sum(XCall.cost_micros),
        )
        .where(
            col(XCall.at) >= f.since,
            col(XCall.at) < f.until,
            col(XCall.account_id).in_(f.account_ids),
        )
        .group_by(month, col(XCall.account_id), col(XCall.kind))
        .order_by(month, col(XCall.account_id), col(XCall.kind))
    )
    found = [
        SpendRow(str(m), accounts.get(a or 0, "(no account)"), k, int(n), int(c), int(cost))
        for m, a, k, n, c, cost in session.exec(query)
    ]
    return sorted(found, key=lambda r: (r.month, r.account, r.kind))


def budgets(
    session: Session, f: Filters, accounts: dict[int, str], rows: list[SpendRow]
) -> list[Budgeted]:
    """Each month's spend (`rows`, from `spend`) against the map's budgets."""
    config = current_map(session).config.budgets
    months = sorted({r.month for r in rows}) or [f.start.strftime("%Y-%m")]
    out: list[Budgeted] = []
    for m in months:
        in_month = [r for r in rows if r.month == m]
        total = int(config.monthly * MICROS) if config.monthly is not None else None
        out.append(Budgeted(m, "all accounts", sum(r.micros for r in in_month), total))
        for handle in accounts.values():
            amount = config.for_account(handle.lstrip("@").lower())
            used = sum(r.micros for r in in_month if r.account == handle)
            out.append(
                Budgeted(m, handle, used, int(amount * MICROS) if amount is not None else None)
            )
    return out


def last_weeks(today: date, weeks: int = 1) -> tuple[date, date]:
    """The `weeks` whole weeks (Monday to Sunday) before `today`'s week."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks), monday - timedelta(days=1)
