"""Tables of the analytics: the spend ledger, what the collector read, and one-time claims.

Money is kept in micro-dollars (integers): a rate card of $0.001 a read summed over a million
reads must come out exact, which floats do not promise.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from approvals.models import UTCDateTime


class XCall(SQLModel, table=True):
    """One call pressgate made to X, priced by the rate card in force when it was made.

    `resources` is what the call acted on or returned (posts read, one post created);
    `charged` is how many of them X bills: none when the call failed, and a resource read a
    second time in one UTC day is not billed again.
    """

    # Covering the spend query (by month, account and kind), so it never reads the table.
    __table_args__ = (
        Index("ix_xcall_account_at", "account_id", "at", "kind", "charged", "cost_micros"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id")
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    kind: str  # see approvals.analytics.prices.KINDS
    endpoint: str  # "POST /2/tweets"
    resources: int = 1
    charged: int = 0
    unit_price_micros: int = 0
    cost_micros: int = 0
    ok: bool = True
    via: str = "dispatch"  # dispatch, collector, reconcile, takedown, connect


class XSpendMonth(SQLModel, table=True):
    """What X has billed in one UTC month, in all and for one account: the running total a
    budget is checked against at every billed call. Summing the month's ledger instead grew
    with the month: 13 ms a call on PostgreSQL and 30 ms on SQLite at 100,000 calls.

    Kept for every billed call whether or not a budget is set, so a budget set mid-month
    reads the month so far; a month with no row yet starts from the ledger's sum.
    """

    month: str = Field(primary_key=True)  # YYYY-MM, UTC
    scope: str = Field(primary_key=True)  # "all", or "account:<id>"
    micros: int = Field(default=0, sa_type=BigInteger)  # past $2,147 a month: not 32 bits


class XRead(SQLModel, table=True):
    """A resource X has billed a read of on one UTC day: a second read that day is free."""

    day: str = Field(primary_key=True)  # YYYY-MM-DD, UTC
    resource: str = Field(primary_key=True)  # "post:<x id>" or "user:<x id>"


class TrackedPost(SQLModel, table=True):
    """A post on a connected account's timeline, with its newest metrics.

    The collector keeps the newest figures here as well as in the snapshots, so the
    dashboard sums one row per post instead of finding each post's newest snapshot among
    millions; `last_read_at` is what the cadence is decided from.
    """

    # Covering the dashboard's sums, so they never read the table.
    __table_args__ = (
        Index(
            "ix_trackedpost_account_published",
            "account_id",
            "published_at",
            "post_id",
            "impressions",
            "likes",
            "reposts",
            "replies",
            "quotes",
            "bookmarks",
        ),
    )
    x_post_id: str = Field(primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    position: int = 0  # part of a thread; 0 for a single post
    published_at: datetime = Field(sa_type=UTCDateTime)
    last_read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reread_asked: bool = False  # someone asked for a fresh read today
    impressions: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    url_clicks: int | None = None  # non-public: the account's own token, posts < 30 days
    profile_clicks: int | None = None


class PostSnapshot(SQLModel, table=True):
    """A post's metrics as X reported them at `taken_at`: the history of a post's reach."""

    __table_args__ = (
        Index("ix_postsnapshot_post_taken", "x_post_id", "taken_at"),
        Index("ix_postsnapshot_account_taken", "account_id", "taken_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    x_post_id: str
    account_id: int = Field(foreign_key="account.id")
    taken_at: datetime = Field(sa_type=UTCDateTime)
    impressions: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    url_clicks: int | None = None
    profile_clicks: int | None = None


class AccountSnapshot(SQLModel, table=True):
    """An account's follower count at `taken_at`."""

    __table_args__ = (Index("ix_accountsnapshot_account_taken", "account_id", "taken_at"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    taken_at: datetime = Field(sa_type=UTCDateTime)
    followers: int


class AnalyticsClaim(SQLModel, table=True):
    """Work done once across all workers: a collector round of an account for one hour, a
    week's digest, a budget warning for a month. The primary key is the claim: the worker
    whose insert commits does the work, every other one sees the row and skips it."""

    name: str = Field(primary_key=True)
    claimed_by: str
    claimed_at: datetime = Field(sa_type=UTCDateTime)


class RevisionFinding(SQLModel, table=True):
    """A policy finding on a revision when it was written: governance counts them by rule."""

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    revision_no: int
    rule: str = Field(index=True)
    severity: str
    found_at: datetime = Field(sa_type=UTCDateTime)
