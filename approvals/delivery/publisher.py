"""What the core needs from X, as a protocol: the tweepy client and the sandbox implement it.

The core decides what may go out and records what happened; it never talks HTTP. Errors are
sorted by what they mean for exactly-once publishing, not by status code: a `RateLimited` or
`Rejected` call certainly posted nothing, an `OutcomeUnknown` call may have posted, so the
post must be reconciled against the account's timeline before anyone tries again.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMedia:
    sha256: str
    content_type: str
    data: bytes
    alt_text: str | None


@dataclass(frozen=True)
class OutgoingPart:
    position: int
    text: str
    media: list[OutgoingMedia] = field(default_factory=list)


@dataclass(frozen=True)
class TimelinePost:
    id: str
    text: str
    created_at: datetime | None = None


class XError(Exception):
    """A call to X failed; the message is written for the post's author."""


class RateLimited(XError):
    """X refused for now (429); nothing was posted. Try again at `retry_at` if X said when."""

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class Rejected(XError):
    """X refused the request for good (bad request, revoked token, duplicate text)."""

    def __init__(self, message: str, *, duplicate: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.duplicate = duplicate
        self.status = status  # X's HTTP status, when X answered


class OutcomeUnknown(XError):
    """The call may or may not have posted (timeout, dropped connection, server error).

    `status` is X's HTTP status when X answered (a 5xx), None when no answer came: only an
    answer counts as a failed attempt, a lost connection says nothing about the post.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class XPublisher(Protocol):
    """One corporate account's voice on X (or the sandbox's stand-in for it)."""

    sandbox: bool

    def create_post(self, part: OutgoingPart, *, reply_to: str | None) -> str:
        """Post one part; returns its id on X."""
        ...

    def delete_post(self, post_id: str) -> None: ...

    def recent_posts(self, *, since: datetime) -> list[TimelinePost]:
        """The account's own posts created at or after `since`, newest first."""
        ...
