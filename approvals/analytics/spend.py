"""The spend ledger: every call pressgate makes to X, what X bills for it, and the budgets.

Calls are recorded by the code that makes them (`bot.x_spend`), each in its own short
transaction after the call, priced by the map in force. X bills a resource read twice in one
UTC day once (`XRead` remembers what was billed today) and bills nothing for a failed call.
Budgets warn, they never block: at `warn_percent` of a month's budget the post's author is
told, at 100% the strategy lead (everyone with `view_analytics` on the account); each
warning once a month, claimed like any other one-time work (`approvals.analytics.once`).

A budget is checked against the month's running totals (`XSpendMonth`), one row for all
accounts and one per account, added to at each billed call in the call's transaction.

Lock order (see `approvals.db`): the billed-read keys, the month's totals (the account's,
then all accounts'), the claim keys, then the audit head, last.
A takedown writes its ledger rows inside its own transaction (a savepoint after the post's
row lock it already holds), never in a second one that would wait for that lock.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from approvals.analytics.models import XCall, XRead, XSpendMonth
from approvals.analytics.once import claim_once, insert_absent
from approvals.analytics.prices import KINDS, MICROS, XPrices, dollars
from approvals.config import Action
from approvals.content.twitter_text import extract_urls
from approvals.map_store import current_map
from approvals.models import Account, Person, Post
from approvals.posts import current_revision, revision_parts
from approvals.records import audit
from approvals.records.audit import SYSTEM

READS = frozenset({"read_post", "read_user", "owned_read"})  # billed per resource returned


@dataclass(frozen=True)
class CallMade:
    """What the code that called X knows about one call."""

    kind: str
    endpoint: str
    ok: bool
    account_id: int | None = None
    post_id: int | None = None
    resources: list[str] = field(default_factory=list)  # ids read, for reads (daily billing)
    units: int = 1  # for calls that are not reads: how many were made
    via: str = "dispatch"


@dataclass(frozen=True)
class BudgetAlert:
    """A budget crossed: whom to tell, and what."""

    people: list[str]
    level: str  # "warn" or "over"
    message: str


@dataclass(frozen=True)
class PublishCost:
    """What publishing a post will cost, part by part, in one line for people."""

    micros: int
    posts: int
    with_link: int
    line: str


def month_start(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def cost_of_parts(texts: list[str], images: int, prices: XPrices) -> PublishCost:
    """Each part is one create request, dearer when it contains a link; images are uploads."""
    with_link = sum(1 for t in texts if extract_urls(t))
    plain = len(texts) - with_link
    micros = (
        with_link * prices.micros("create_post_url")
        + plain * prices.micros("create_post")
        + images * prices.micros("media_upload")
    )
    if len(texts) == 1:
        what = "contains a link" if with_link else "no link"
    else:
        what = f"{len(texts)} posts, {with_link} with a link"
    return PublishCost(micros, len(texts), with_link, f"{what}: {dollars(micros)}")


def publish_cost(session: Session, post: Post) -> PublishCost:
    """What publishing `post`'s current words costs at the prices of the map in force (for
    `show`, the compose and post pages and the Slack request)."""
    parts = revision_parts(session, current_revision(session, post))
    images = sum(len(p.media) for p in parts)
    return cost_of_parts([p.text for p in parts], images, current_map(session).config.x_prices)


def record_call(session: Session, *, call: CallMade, now: datetime) -> list[BudgetAlert]:
    """Write one call to the ledger; returns the budget warnings it set off (to be sent
    after the caller commits)."""
    if call.kind not in KINDS:
        raise ValueError(f"unknown kind of X call {call.kind!r}")
    pmap = current_map(session)
    unit = pmap.config.x_prices.micros(call.kind)
    if not call.ok:
        resources, charged = max(len(call.resources), call.units), 0
    elif call.kind in READS:
        day = now.astimezone(UTC).strftime("%Y-%m-%d")
        rows = [{"day": day, "resource": r} for r in dict.fromkeys(call.resources)]
        resources, charged = len(call.resources), insert_absent(session, XRead, rows)
    else:
        resources = charged = call.units
    session.add(
        XCall(
            at=now,
            account_id=call.account_id,
            post_id=call.post_id,
            kind=call.kind,
            endpoint=call.endpoint,
            resources=resources,
            charged=charged,
            unit_price_micros=unit,
            cost_micros=unit * charged,
            ok=call.ok,
            via=call.via,
        )
    )
    session.flush()
    if unit * charged == 0:
        return []
    _add_to_totals(session, account_id=call.account_id, cost=unit * charged, now=now)
    return _check_budgets(session, call=call, now=now)


def _add_to_totals(session: Session, *, account_id: int | None, cost: int, now: datetime) -> None:
    """Add one billed call to its month's totals: the account's, then all accounts' (the
    row every worker writes, so it is locked last and for the shortest time)."""
    since = month_start(now)
    month = since.strftime("%Y-%m")
    if account_id is not None:
        _add(session, month, _scope(account_id), cost, since=since, account_id=account_id)
    _add(session, month, _scope(None), cost, since=since, account_id=None)


def _add(
    session: Session, month: str, scope: str, cost: int, *, since: datetime, account_id: int | None
) -> None:
    table = XSpendMonth.__table__  # type: ignore[attr-defined]
    where = (table.c.month == month) & (table.c.scope == scope)
    bump = update(table).where(where).values(micros=table.c.micros + cost)
    if session.execute(bump).rowcount:  # type: ignore[attr-defined]
        return
    # The month's first billed call here: its total so far is the ledger's, this call's row
    # (flushed above) included. If another call's transaction writes the row first, its sum
    # could not see this call's row, uncommitted: this call is then added to it.
    total = spent(session, since=since, account_id=account_id)
    if not insert_absent(session, XSpendMonth, [{"month": month, "scope": scope, "micros": total}]):
        session.execute(bump)


def month_spent(session: Session, *, now: datetime, account_id: int | None = None) -> int:
    """Micro-dollars billed this UTC month (one account, or all), from the running totals."""
    table = XSpendMonth.__table__  # type: ignore[attr-defined]
    month = month_start(now).strftime("%Y-%m")
    found = session.execute(
        select(table.c.micros).where(table.c.month == month, table.c.scope == _scope(account_id))
    ).scalar()
    return int(found or 0)


def _scope(account_id: int | None) -> str:
    """A running total's key: all accounts, or one (`XSpendMonth.scope`)."""
    return "all" if account_id is None else f"account:{account_id}"


def spent(session: Session, *, since: datetime, account_id: int | None = None) -> int:
    """Micro-dollars billed since `since` (one account, or all)."""
    query = select(func.coalesce(func.sum(XCall.cost_micros), 0)).where(col(XCall.at) >= since)
    if account_id is not None:
        query = query.where(XCall.account_id == account_id)
    return int(session.exec(query).one())


def _check_budgets(session: Session, *, call: CallMade, now: datetime) -> list[BudgetAlert]:
    pmap = current_map(session)
    budgets = pmap.config.budgets
    start = month_start(now)
    month = start.strftime("%Y-%m")
    scopes: list[tuple[str, Decimal, int | None, Account | None]] = []
    if budgets.monthly is not None:
        scopes.append(("all accounts", budgets.monthly, None, None))
    account = session.get(Account, call.account_id) if call.account_id is not None else None
    if account is not None and budgets.for_account(account.key) is not None:
        amount = budgets.for_account(account.key)
        assert amount is not None
        scopes.append((account.handle, amount, account.id, account))
    alerts: list[BudgetAlert] = []
    for label, amount, account_id, scoped in scopes:
        budget = int(amount * MICROS)
        used = month_spent(session, now=now, account_id=account_id)
        percent = used * 100 // budget
        for level, threshold in (("over", 100), ("warn", budgets.warn_percent)):
            if percent < threshold:
                continue
            people = _whom(session, level=level, call=call, account=scoped)
            if level == "warn" and not people:
                break  # a read for no post: the next post's author is the one to tell
            name = f"budget:{level}:{label}:{month}"
            if not claim_once(session, name=name, worker=SYSTEM, now=now):
                break  # this level (and so the lower one) was told already this month
            message = (
                f"X spend for {label} in {month} is {dollars(used)}, {percent}% of the "
                f"{dollars(budget)} budget"
                + (" (posts still go out; budgets never block)" if level == "over" else "")
            )
            audit.record(
                session,
                actor=SYSTEM,
                action=f"spend.budget_{level}",
                subject=f"budget:{label}",
                at=now,
                details={"month": month, "spent": dollars(used), "budget": dollars(budget)},
            )
            alerts.append(BudgetAlert(people, level, message))
            break  # one message per scope and call: "over" says all "warn" would
    return alerts


def _whom(session: Session, *, level: str, call: CallMade, account: Account | None) -> list[str]:
    """The author of the post the call was for (warn); the strategy lead, and the author
    (over: one message says what the warning would have)."""
    pmap = current_map(session)
    post = session.get(Post, call.post_id) if call.post_id is not None else None
    author = session.get(Person, post.author_id) if post is not None else None
    authors = [author.email] if author is not None else []
    if level == "warn":
        return authors
    if account is not None:
        leads = pmap.holders(Action.VIEW_ANALYTICS, account.handle)
    else:
        leads = [p.email for p in pmap.config.people if pmap.can(p.email, Action.VIEW_ANALYTICS)]
    return leads + [a for a in authors if a not in leads]
