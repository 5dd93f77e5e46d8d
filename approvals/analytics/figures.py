"""How the posts did: reach and engagement, over time, by hour and weekday, by template and
campaign, the best and the worst. Each figure is one aggregate query.

Definitions (the README states them for the strategy lead):
- a post is a post on X (each part of a thread counts), published in the date range; its
  figures are the newest the collector read;
- engagements = likes + reposts + replies + quotes + bookmarks;
- engagement rate = engagements / impressions, summed over the posts first (posts with many
  impressions weigh more), as a percentage;
- days are UTC days (as the range is); the hour and weekday of the heatmap are those of
  each post's account, in its own time zone.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from approvals.analytics import sql
from approvals.analytics.models import AccountSnapshot, TrackedPost
from approvals.models import Account, Post, RevisionPart

TOP = 5
T = TrackedPost


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    account_ids: tuple[int, ...]
    campaign: str | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)


@dataclass(frozen=True)
class Reach:
    posts: int
    impressions: int
    engagements: int

    @property
    def rate(self) -> float:
        """Engagement rate in percent; 0 when nothing was seen."""
        return 100.0 * self.engagements / self.impressions if self.impressions else 0.0


@dataclass(frozen=True)
class Row:
    """A group's reach: a day, a template, a campaign, a cell of the heatmap."""

    key: str
    reach: Reach


@dataclass(frozen=True)
class PostRow:
    x_post_id: str
    post_id: int | None
    account_id: int
    published_at: datetime
    text: str
    reach: Reach


@dataclass
class Performance:
    total: Reach
    by_day: list[Row]
    by_template: list[Row]
    by_campaign: list[Row]
    heatmap: dict[tuple[int, int], Reach]  # (weekday 0=Mon, hour) in the account's zone
    top: list[PostRow]
    bottom: list[PostRow]
    followers: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # account -> days


def engagements() -> ColumnElement[Any]:
    return col(T.likes) + col(T.reposts) + col(T.replies) + col(T.quotes) + col(T.bookmarks)


def _sums() -> tuple[Any, ...]:
    return (
        func.count(),
        func.coalesce(func.sum(T.impressions), 0),
        func.coalesce(func.sum(engagements()), 0),
    )


def _reach(posts: Any, impressions: Any, engaged: Any) -> Reach:
    return Reach(int(posts), int(impressions), int(engaged))


def _where(f: Filters) -> list[ColumnElement[bool]]:
    conditions = [
        col(T.account_id).in_(f.account_ids),
        col(T.published_at) >= f.since,
        col(T.published_at) < f.until,
    ]
    if f.campaign is not None:
        conditions.append(col(Post.campaign) == f.campaign)
    return conditions


def _base(*columns: Any, f: Filters, tags: bool = True) -> Any:
    """The tracked posts in the range; joined to their pressgate post for its tags only
    when a tag is asked for (the join costs a lookup per row)."""
    query = select(*columns).select_from(T)
    if tags or f.campaign is not None:
        query = query.outerjoin(Post, and_(col(Post.id) == T.post_id))
    return query.where(*_where(f))


def performance(session: Session, f: Filters) -> Performance:
    """Two grouped queries give every sum: by (account, UTC day, UTC hour), whence the totals,
    the days and the heatmap (an hour of a day is placed in its account's own zone); by
    (template, campaign), whence both groupings."""
    day, hr = sql.day(session, T.published_at), sql.hour(session, T.published_at)
    account = col(T.account_id)
    cells = [
        (int(a), str(d), int(h), _reach(*rest))
        for a, d, h, *rest in session.exec(
            _base(account, day, hr, *_sums(), f=f, tags=False).group_by(account, day, hr)
        )
    ]
    zones = _zones(session, f)
    by_day: dict[str, Reach] = {}
    heatmap: dict[tuple[int, int], Reach] = {}
    for a, d, h, reach in cells:
        by_day[d] = _add(by_day.get(d), reach)
        utc = datetime.combine(date.fromisoformat(d), time(h), UTC)
        local = utc.astimezone(zones.get(a, UTC))
        key = (local.weekday(), local.hour)
        heatmap[key] = _add(heatmap.get(key), reach)
    template, campaign = col(Post.template), col(Post.campaign)
    tags = [
        (t, c, _reach(*rest))
        for t, c, *rest in session.exec(
            _base(template, campaign, *_sums(), f=f).group_by(template, campaign)
        )
    ]
    return Performance(
        total=_sum(r for _a, _d, _h, r in cells),
        by_day=[Row(d, r) for d, r in sorted(by_day.items())],
        by_template=_rows_by(tags, 0, "(no template)"),
        by_campaign=_rows_by(tags, 1, "(no campaign)"),
        heatmap=heatmap,
        top=_ranked(session, f, best=True),
        bottom=_ranked(session, f, best=False),
        followers=followers(session, f),
    )


def _zones(session: Session, f: Filters) -> dict[int, tzinfo]:
    rows = session.exec(
        select(Account.id, Account.timezone).where(col(Account.id).in_(f.account_ids))
    ).all()
    return {int(i): ZoneInfo(z) for i, z in rows if i is not None}


def _add(a: Reach | None, b: Reach) -> Reach:
    if a is None:
        return b
    return Reach(a.posts + b.posts, a.impressions + b.impressions, a.engagements + b.engagements)


def _sum(reaches: Iterable[Reach]) -> Reach:
    total = Reach(0, 0, 0)
    for reach in reaches:
        total = _add(total, reach)
    return total


def _rows_by(tags: list[tuple[Any, Any, Reach]], which: int, none: str) -> list[Row]:
    """Rows of one tag (template or campaign), most impressions first."""
    grouped: dict[str, Reach] = {}
    for tag in tags:
        key = none if tag[which] is None else str(tag[which])
        grouped[key] = _add(grouped.get(key), tag[2])
    ordered = sorted(grouped.items(), key=lambda kv: (-kv[1].impressions, kv[0]))
    return [Row(k, r) for k, r in ordered]


def _ranked(session: Session, f: Filters, *, best: bool) -> list[PostRow]:
    """The posts with the most (or fewest) impressions; ties by engagements, then id."""
    order = [col(T.impressions), engagements(), col(T.x_post_id)]
    query = (
        _base(T, RevisionPart.text, f=f)
        .outerjoin(RevisionPart, col(RevisionPart.x_post_id) == T.x_post_id)
        .order_by(*[o.desc() if best else o.asc() for o in order])
        .limit(TOP)
    )
    rows = []
    for tracked, text in session.exec(query):
        eng = tracked.likes + tracked.reposts + tracked.replies + tracked.quotes + tracked.bookmarks
        rows.append(
            PostRow(
                x_post_id=tracked.x_post_id,
                post_id=tracked.post_id,
                account_id=tracked.account_id,
                published_at=tracked.published_at,
                text=text or "(posted outside pressgate)",
                reach=Reach(1, tracked.impressions, eng),
            )
        )
    return rows


def followers(session: Session, f: Filters) -> dict[int, list[tuple[str, int]]]:
    """Each account's follower count per day (the last reading of the day)."""
    a = AccountSnapshot
    day = sql.day(session, a.taken_at)
    last = (
        select(col(a.account_id), func.max(a.taken_at).label("at"))
        .where(
            col(a.account_id).in_(f.account_ids),
            col(a.taken_at) >= f.since,
            col(a.taken_at) < f.until,
        )
        .group_by(col(a.account_id), day)
        .subquery()
    )
    query = (
        select(a.account_id, sql.day(session, a.taken_at), a.followers)
        .join(last, and_(col(a.account_id) == last.c.account_id, col(a.taken_at) == last.c.at))
        .order_by(col(a.account_id), col(a.taken_at))
    )
    out: dict[int, list[tuple[str, int]]] = {}
    for account_id, when, count in session.exec(query):
        out.setdefault(int(account_id), []).append((str(when), int(count)))
    return out
