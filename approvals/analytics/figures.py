"""How the posts did: reach and engagement, over time, by hour and weekday, by template and
campaign, the best and the worst. Each figure is one aggregate query.

Definitions (the README states them for the strategy lead):
- a post is a post on X (each part of a thread counts), published in the date range; its
  figures are the newest the collector read;
- engagements = likes + reposts + replies + quotes + bookmarks;
- engagement rate = engagements / impressions, summed over the posts first (posts with many
  impressions weigh more), as a percentage;
- times are UTC.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from approvals.analytics import sql
from approvals.analytics.models import AccountSnapshot, TrackedPost
from approvals.models import Post, RevisionPart

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
    heatmap: dict[tuple[int, int], Reach]  # (weekday 0=Mon, hour) -> reach
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


def _base(*columns: Any, f: Filters) -> Any:
    joined = and_(col(Post.id) == T.post_id)
    return select(*columns).select_from(T).outerjoin(Post, joined).where(*_where(f))


def performance(session: Session, f: Filters) -> Performance:
    total = _reach(*session.exec(_base(*_sums(), f=f)).one())
    day = sql.day(session, T.published_at)
    by_day = [
        Row(str(k), _reach(*rest))
        for k, *rest in session.exec(_base(day, *_sums(), f=f).group_by(day).order_by(day))
    ]
    by_template = _grouped(session, f, col(Post.template), "(no template)")
    by_campaign = _grouped(session, f, col(Post.campaign), "(no campaign)")
    wd, hr = sql.weekday(session, T.published_at), sql.hour(session, T.published_at)
    heatmap = {
        (int(w), int(h)): _reach(*rest)
        for w, h, *rest in session.exec(_base(wd, hr, *_sums(), f=f).group_by(wd, hr))
    }
    return Performance(
        total=total,
        by_day=by_day,
        by_template=by_template,
        by_campaign=by_campaign,
        heatmap=heatmap,
        top=_ranked(session, f, best=True),
        bottom=_ranked(session, f, best=False),
        followers=followers(session, f),
    )


def _grouped(session: Session, f: Filters, key: Any, none: str) -> list[Row]:
    query = _base(key, *_sums(), f=f).group_by(key).order_by(func.sum(T.impressions).desc())
    return [
        Row(str(k) if k is not None else none, _reach(*rest)) for k, *rest in session.exec(query)
    ]


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
