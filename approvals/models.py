"""Persistence model. Times are stored as naive UTC and always handed back timezone-aware.

Room is left for what comes after the core: approvals carry a `stage` (ordered approval
stages) and an `expires_at` (approvals that must be re-confirmed), posts carry the
columns the dispatcher needs to claim and retry them.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Enum, LargeBinary, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Re-exported: the tables use them and callers import them from here.
from approvals.states import Decision as Decision
from approvals.states import PostState as PostState


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite keeps no zone, so every datetime is stored as naive UTC and read back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _enum_column(enum: type[StrEnum]) -> Enum:
    """Store an enum's values as plain strings: new states need no ALTER TYPE on PostgreSQL."""
    return Enum(
        enum,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    name: str | None = None
    slack_user_id: str | None = Field(default=None, index=True)
    active: bool = True


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)  # handle, lower case, no "@"
    handle: str  # as written in the map, with "@"
    kind: str  # corporate | personal
    approvals_required: int = 1
    timezone: str = "Europe/London"
    slack_channel: str | None = None
    active: bool = True
    paused: bool = False
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_by: str | None = None
    pause_reason: str | None = None
    pause_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConfigVersion(SQLModel, table=True):
    """Each distinct permission map ever applied; the newest is in force."""

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(index=True)
    document: str = Field(sa_type=Text)  # canonical JSON of the validated config
    source: str
    applied_by: str
    applied_at: datetime = Field(sa_type=UTCDateTime)


class Post(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    author_id: int = Field(foreign_key="person.id", index=True)
    state: PostState = Field(default=PostState.DRAFT, index=True, sa_type=_enum_column(PostState))
    revision_no: int = 1  # number of the current revision
    timezone: str = "Europe/London"  # zone the schedule was entered in, for display
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    state_reason: str | None = None  # why it was rejected, withdrawn or failed
    # Publishing (dispatcher) bookkeeping.
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Fencing token: raised by every claim. A worker may send or record only while the post
    # still carries the token it was given, so one frozen past its lease can do no harm.
    claim_token: int = 0
    # Failed attempts that count towards the limit: calls X answered with an error, and
    # errors pressgate could not classify. Crashes, timeouts and reconciles do not count.
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failure_retryable: bool | None = None
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_revision_no: int | None = None
    # When the first attempt began: a reconcile searches the timeline from here.
    publish_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while the outcome of a call to X is unknown (timeout, crash): reconcile first.
    outcome_unknown: bool = False
    sandbox: bool = False  # published by the sandbox publisher, not to X
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Tags (`pre-election`, a campaign) may add approval stages; not part of the words.
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # 0: not escalated; 1: deputies asked (and may stand in); 2: duty officers asked too.
    escalation_level: int = 0
    # Analytics groups posts by these: a campaign tag (bulk import's column, `--campaign`)
    # and the template the words came from, when one did.
    campaign: str | None = Field(default=None, index=True)
    template: str | None = None


class Revision(SQLModel, table=True):
    """An immutable version of a post's words; approvals belong to exactly one."""

    __table_args__ = (UniqueConstraint("post_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    number: int
    content_hash: str = Field(index=True)
    created_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class RevisionPart(SQLModel, table=True):
    """One post of a thread; `media` lists {"sha256", "alt_text"} in order."""

    __table_args__ = (
        UniqueConstraint("revision_id", "position"),
        UniqueConstraint("x_post_id", name="uq_revisionpart_x_post_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    position: int
    text: str = Field(sa_type=Text)
    media: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    # Set once this part is on X, never changed after. Unique: a post on X belongs to at most
    # one pressgate post (invariant 4), enforced by the database, not only by a check.
    x_post_id: str | None = None


class StrayPost(SQLModel, table=True):
    """A copy of a part that reached X although its worker had lost the claim.

    A worker frozen past its lease (a long pause, a suspended VM) may wake and finish a call
    that another worker has already made. Its copy is no post's id of record: it is written
    down here, so nobody adopts it, and deleted from X (`removed_at`), both audited.
    """

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    position: int
    x_post_id: str = Field(unique=True)
    found_by: str
    found_at: datetime = Field(sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None


class MediaAsset(SQLModel, table=True):
    """Image bytes, content-addressed, so a revision's hash covers exactly what is posted."""

    sha256: str = Field(primary_key=True)
    content_type: str
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class Approval(SQLModel, table=True):
    """A person's decision on one revision. Approvals of older revisions no longer count."""

    __table_args__ = (UniqueConstraint("revision_id", "person_id", "stage"),)
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    decision: Decision = Field(sa_type=_enum_column(Decision))
    stage: str = "default"
    reason: str | None = None
    via: str = "cli"
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """One link of the hash chain. `seq` is gapless: it is taken under the head row's lock.

    `hash` is an HMAC under the audit key named by `key_id`; entries written before the chain
    was keyed have no `key_id` and a plain SHA-256 `hash` (see approvals/records/audit.py).
    """

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str
    action: str = Field(index=True)
    subject: str = Field(index=True)
    details: str = Field(sa_type=Text)  # canonical JSON
    prev_hash: str
    hash: str
    key_id: str | None = None


class AuditHead(SQLModel, table=True):
    """A single row: the newest entry's seq and hash. Locking it serialises appends.

    `seal` is an HMAC over seq and hash under the key `key_id`, so the row cannot be wound
    back to an earlier entry (hiding the entries after it) by someone without the key.
    """

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = ""
    key_id: str | None = None
    seal: str | None = None


class GlobalPause(SQLModel, table=True):
    """A single row: publishing stopped on every account at once (a crisis switch)."""

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    paused: bool = False
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_by: str | None = None
    reason: str | None = None
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # lifts by itself
    # Two-person rule: the first person's request to lift it, until a second confirms.
    lift_requested_by: str | None = None
    lift_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Credential(SQLModel, table=True):
    """A corporate account's X tokens, encrypted; only the X user's id and name are in clear."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True)
    kind: str  # oauth1 | oauth2
    x_user_id: str
    x_username: str
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    connected_by: str
    updated_at: datetime = Field(sa_type=UTCDateTime)


class SandboxPost(SQLModel, table=True):
    """What the sandbox publisher would have posted; nothing here ever reached X."""

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(index=True)
    text: str = Field(sa_type=Text)
    reply_to: str | None = None
    media: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(sa_type=UTCDateTime)
    deleted: bool = False


class PostTemplate(SQLModel, table=True):
    """A reusable post (e.g. a deadline reminder), rendered in Jinja2's sandbox."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    description: str | None = None
    variables: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    body: str = Field(sa_type=Text)
    created_by: str
    updated_at: datetime = Field(sa_type=UTCDateTime)


class GuidanceVersion(SQLModel, table=True):
    """A published version of the personal-use guidance; the newest is current."""

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(index=True)
    text: str = Field(sa_type=Text)  # the rendered guidance as published
    published_by: str
    published_at: datetime = Field(sa_type=UTCDateTime)
    # Published from a staff consultation: which one, who signed it off for the unions, and
    # which comments the policy owner answered. Reads of earlier versions do not count for it.
    consultation_id: int | None = None
    signed_off_by: str | None = None
    answered_comments: list[int] | None = Field(default=None, sa_column=Column(JSON))


class Consultation(SQLModel, table=True):
    """A draft of the guidance open for staff comments until `closes_at`.

    In an `anonymous` consultation, comments show no name to anyone but the policy owner.
    """

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_type=Text)
    content_hash: str
    opened_by: str
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    anonymous: bool = False
    signed_off_by: str | None = None
    signed_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_version_id: int | None = None


class ConsultationComment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    answer: str | None = Field(default=None, sa_type=Text)
    answered_by: str | None = None
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GuidanceRead(SQLModel, table=True):
    """A member of staff recorded that they have read one version of the guidance."""

    __table_args__ = (UniqueConstraint("version_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="guidanceversion.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    read_at: datetime = Field(sa_type=UTCDateTime)


class ReviewLinkUse(SQLModel, table=True):
    """A signed review link that has decided once, and so decides no more.

    `token_id` is the link's random id, unique, so two uses racing each other cannot both be
    recorded. A row may go once `expires_at` has passed: an expired link is refused anyway.
    """

    id: int | None = Field(default=None, primary_key=True)
    token_id: str = Field(unique=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    revision_hash: str
    decision: Decision = Field(sa_type=_enum_column(Decision))
    used_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class Notice(SQLModel, table=True):
    """One message in the outbox: written in the transaction of the change it reports, sent
    to Slack (or the log) afterwards by a worker (bot/slack/sender.py), exactly once.

    `kind` is `request` (an approval request: it gets a `ts` once sent, so later decisions
    can update it), `update` (a new look for the request row `target_id`), or `notice`.
    `channel` is a channel (`#press-approvals`, `C…`), a Slack user id (a DM) or None (the
    recipient has no Slack: the log). `queue` orders rows: one is sent only after every
    earlier row of its queue (a post's rows, the duty channel's) is settled. `link_for` and
    `revision_hash` ask the sender to add a signed review link for that approver.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    queue: str = Field(index=True)
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    revision_no: int | None = None
    revision_hash: str | None = None
    channel: str | None = None
    link_for: int | None = Field(default=None, foreign_key="person.id")
    target_id: int | None = Field(default=None, foreign_key="notice.id")
    closes: bool = False  # an update that takes the request's buttons away
    text: str = Field(sa_type=Text)  # the fallback text (notifications, the log line)
    blocks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    # Notices planned ahead (a blackout's start and end) are written once: the key says which.
    dedupe_key: str | None = Field(default=None, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    state: str = Field(default="pending", max_length=16, index=True)  # pending|sent|dropped|failed
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    claim_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_token: int = 0
    last_error: str | None = None
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_channel: str | None = None  # the channel id Slack answered with (chat.update needs it)
    sent_ts: str | None = None


# The analytics tables live with their concept; importing them here registers them wherever
# the models are (the migrations, `create_all` in tests). Last, because they import from here.
import approvals.analytics.models  # noqa: E402, F401
