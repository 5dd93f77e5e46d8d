"""The collector: which of an account's posts to read from X now, and keeping what X said.

Only the account's own timeline is read (`GET /2/users/:id/tweets`, an owned read at $0.001
a post), never lookups by id, which cost five times as much. The timeline is read in
windows of post ids (`since_id`/`until_id`, both exclusive) that hold only posts due for a
read, so no post is read twice in one UTC day unless someone asks (`again`) or the map asks
for hourly reads on a post's first day. Cadence: a post is read within the hour after it is
published, then once a UTC day to day 30, then once a week.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete
from sqlmodel import Session, col, select

from approvals.analytics.models import (
    AccountSnapshot,
    AnalyticsClaim,
    PostSnapshot,
    TrackedPost,
    XRead,
)
from approvals.analytics.once import insert_absent
from approvals.models import Post, PostState, Revision, RevisionPart

DAILY_UNTIL = timedelta(days=30)  # also X's limit for non-public and organic metrics
WEEKLY = timedelta(days=7)
HOURLY = timedelta(minutes=55)  # an hourly job drifts: a read 58 minutes ago is an hour ago
MAX_WINDOWS = 50  # reads per account and round; what is left is due again next round
FIRST_LOOK = timedelta(days=30)  # how far back a newly connected account's timeline is read
TWITTER_EPOCH_MS = 1288834974657  # X's post ids count milliseconds from here (snowflakes)


@dataclass(frozen=True)
class PostFigures:
    """One post's metrics as X returned them."""

    x_post_id: str
    created_at: datetime
    impressions: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    url_clicks: int | None = None
    profile_clicks: int | None = None


@dataclass
class TimelineRead:
    posts: list[PostFigures] = field(default_factory=list)
    followers: int | None = None


@dataclass(frozen=True)
class Window:
    """Posts with ids strictly between `since_id` and `until_id` (None: up to the newest)."""

    since_id: int
    until_id: int | None
    recent: bool  # every post in it is under 30 days old: ask for non-public metrics too
    expected: tuple[str, ...]  # the tracked posts it should return


class OwnTimeline(Protocol):
    """What the collector needs from X (bot.x_client.XClient implements it)."""

    def read_own(self, window: Window) -> TimelineRead: ...


def track_published(session: Session, *, account_id: int) -> int:
    """Start tracking every part pressgate published on the account; returns how many new."""
    rows = session.exec(
        select(RevisionPart.x_post_id, RevisionPart.position, Post.id, Post.published_at)
        .join(Revision, col(Revision.id) == RevisionPart.revision_id)
        .join(Post, col(Post.id) == Revision.post_id)
        .where(
            Post.account_id == account_id,
            col(RevisionPart.x_post_id).is_not(None),
            col(Post.published_at).is_not(None),
        )
    ).all()
    return insert_absent(
        session,
        TrackedPost,
        [
            {
                "x_post_id": x_id,
                "account_id": account_id,
                "post_id": post_id,
                "position": position,
                "published_at": published_at,
            }
            for x_id, position, post_id, published_at in rows
        ],
    )


def is_due(post: TrackedPost, *, now: datetime, hourly_first_day: bool, again: bool) -> bool:
    if again or post.reread_asked or post.last_read_at is None:
        return True
    age = now - post.published_at
    since = now - post.last_read_at
    if hourly_first_day and age < timedelta(days=1):
        return since >= HOURLY
    if age <= DAILY_UNTIL:
        return post.last_read_at.astimezone(UTC).date() < now.astimezone(UTC).date()
    return since >= WEEKLY


def due_windows(
    session: Session,
    *,
    account_id: int,
    now: datetime,
    hourly_first_day: bool = False,
    again: bool = False,
) -> list[Window]:
    """The reads to make now: runs of due posts, newest run open-ended to find new posts."""
    taken_down = select(Post.id).where(Post.state == PostState.TAKEN_DOWN)
    tracked = session.exec(
        select(TrackedPost).where(
            TrackedPost.account_id == account_id,
            col(TrackedPost.post_id).is_(None) | col(TrackedPost.post_id).not_in(taken_down),
        )
    ).all()
    posts = sorted(tracked, key=lambda p: int(p.x_post_id))
    runs: list[list[TrackedPost]] = []
    current: list[TrackedPost] = []
    for post in posts:
        if is_due(post, now=now, hourly_first_day=hourly_first_day, again=again):
            current.append(post)
        elif current:
            runs.append(current)
            current = []
    windows = [_window(run, now, open_ended=False) for run in runs]
    if current:  # the newest posts are due: read from the oldest of them to the newest on X
        windows.append(_window(current, now, open_ended=True))
    else:  # only look for posts newer than any known (none: nothing is billed)
        newest = int(posts[-1].x_post_id) if posts else snowflake_at(now - FIRST_LOOK)
        windows.append(Window(newest, None, True, ()))
    return windows[-MAX_WINDOWS:]


def snowflake_at(at: datetime) -> int:
    """The smallest post id X could give a post made at `at`: a first read of an account goes
    back `FIRST_LOOK`, not to the account's first post (each post read is billed)."""
    return (int(at.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22


def prune(session: Session, *, now: datetime) -> None:
    """Forget what no longer decides anything: billed reads of past UTC days, and collector
    claims of past hours (budget and digest claims stay: they are once a month and a week)."""
    today = now.astimezone(UTC).strftime("%Y-%m-%d")
    session.execute(delete(XRead).where(col(XRead.day) < today))
    session.execute(
        delete(AnalyticsClaim).where(
            col(AnalyticsClaim.name).startswith("collect:"),
            col(AnalyticsClaim.claimed_at) < now - timedelta(days=2),
        )
    )


def _window(run: list[TrackedPost], now: datetime, *, open_ended: bool) -> Window:
    oldest, newest = run[0], run[-1]
    return Window(
        since_id=int(oldest.x_post_id) - 1,
        until_id=None if open_ended else int(newest.x_post_id) + 1,
        recent=now - oldest.published_at < DAILY_UNTIL,
        expected=tuple(p.x_post_id for p in run),
    )


def keep_read(
    session: Session, *, account_id: int, window: Window, read: TimelineRead, now: datetime
) -> int:
    """Store what one read returned: a snapshot per post, the newest figures on the tracked
    post, the follower count. Posts expected but not returned (deleted on X) count as read
    today, so they are not asked for again before their next turn. Returns posts stored."""
    returned = {p.x_post_id: p for p in read.posts}
    known = {
        t.x_post_id: t
        for t in session.exec(
            select(TrackedPost).where(
                col(TrackedPost.x_post_id).in_(list(returned) + list(window.expected))
            )
        ).all()
    }
    for x_id, figures in returned.items():
        tracked = known.get(x_id)
        if tracked is None:  # posted on X outside pressgate: the account's figures count it
            tracked = TrackedPost(
                x_post_id=x_id, account_id=account_id, published_at=figures.created_at
            )
        _apply(tracked, figures)
        tracked.last_read_at, tracked.reread_asked = now, False
        session.add(tracked)
        snapshot = PostSnapshot(x_post_id=x_id, account_id=account_id, taken_at=now)
        _apply(snapshot, figures)
        session.add(snapshot)
    for x_id in window.expected:
        if x_id not in returned and x_id in known:
            known[x_id].last_read_at = now
            known[x_id].reread_asked = False
            session.add(known[x_id])
    if read.followers is not None:
        session.add(AccountSnapshot(account_id=account_id, taken_at=now, followers=read.followers))
    session.flush()
    return len(returned)


def ask_again(session: Session, *, account_id: int | None = None) -> int:
    """Mark tracked posts for a fresh read at the next round, whatever their cadence."""
    query = select(TrackedPost)
    if account_id is not None:
        query = query.where(TrackedPost.account_id == account_id)
    posts = session.exec(query).all()
    for post in posts:
        post.reread_asked = True
        session.add(post)
    return len(posts)


def _of(figures: PostFigures) -> dict[str, int | None]:
    return {
        "impressions": figures.impressions,
        "likes": figures.likes,
        "reposts": figures.reposts,
        "replies": figures.replies,
        "quotes": figures.quotes,
        "bookmarks": figures.bookmarks,
        "url_clicks": figures.url_clicks,
        "profile_clicks": figures.profile_clicks,
    }


def _apply(row: TrackedPost | PostSnapshot, figures: PostFigures) -> None:
    for name, value in _of(figures).items():
        if value is not None:  # non-public figures stop at 30 days: keep the last known
            setattr(row, name, value)
