"""The JSON API's request and response bodies, so `/openapi.json` documents every field.

Every string has a cap (the domain's own limits where it has one) and unknown fields are
refused, so a typo is a 422 naming the field rather than a silently ignored value. Rules are
not checked here: the domain services decide, as they do for the pages and the CLI.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from approvals.inbox import PostRow
from approvals.posts import MAX_ALT_TEXT, MAX_MEDIA_PER_PART, MAX_PART_CHARS, MAX_PARTS
from approvals.summary import PostView

MAX_REASON = 500  # as the duty page: a reason is a line or two for the audit log
LocalTime = Annotated[
    str,
    Field(
        max_length=40,
        description="`YYYY-MM-DD HH:MM` in the account's time zone, or ISO 8601 with an offset",
        examples=["2026-12-01 09:30"],
    ),
]
Handle = Annotated[
    str,
    Field(pattern=r"^@?[A-Za-z0-9_]{1,15}$", description="an X handle", examples=["@DeptNews"]),
]
Hash = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="the revision hash you were shown (`revision_hash` of the post)",
    ),
]
Trimmed = StringConstraints(strip_whitespace=True, max_length=MAX_REASON)
Reason = Annotated[str, Trimmed, StringConstraints(min_length=1)]
OptionalReason = Annotated[str, Trimmed]

# Bodies: the largest draft (every part and alt text at its cap, every character escaped)
# and, for every other route, a few kilobytes.
DRAFT_MAX_BYTES = MAX_PARTS * (MAX_PART_CHARS + MAX_MEDIA_PER_PART * (MAX_ALT_TEXT + 100)) * 6
ACTION_MAX_BYTES = 16_384


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageRef(Strict):
    """An image already stored by pressgate (a post's `media[].sha256`), with its alt text."""

    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    alt_text: Annotated[str, Field(max_length=MAX_ALT_TEXT)] | None = None


class PartIn(Strict):
    text: Annotated[str, Field(max_length=MAX_PART_CHARS)] = ""
    images: Annotated[list[ImageRef], Field(max_length=MAX_MEDIA_PER_PART)] = []


Parts = Annotated[list[PartIn], Field(min_length=1, max_length=MAX_PARTS)]


class NewDraft(Strict):
    account: Handle
    parts: Parts
    at: LocalTime | None = Field(None, description="when to publish; none: not scheduled")
    submit: bool = Field(False, description="submit for approval at once")


class DraftChanges(Strict):
    """New words for a draft or a post in review (which goes back to review, approvals void)."""

    expected_hash: Hash
    parts: Parts
    at: LocalTime | None = Field(
        None, description="a new publishing time; null unschedules; leave it out to keep it"
    )
    submit: bool = Field(False, description="submit for approval too, if still a draft")


class Withdraw(Strict):
    reason: OptionalReason = ""


class Schedule(Strict):
    at: LocalTime | None = Field(description="when to publish; null unschedules")


class Approve(Strict):
    revision_hash: Hash


class Reject(Strict):
    revision_hash: Hash
    reason: Reason


class Takedown(Strict):
    reason: Reason


class Pause(Strict):
    account: Handle | None = Field(None, description="one account; null pauses all publishing")
    reason: Reason
    until: LocalTime | None = Field(
        None,
        description="the pause lifts by itself then (in the account's zone; for all "
        "publishing, Europe/London); none: until someone resumes it",
    )


class Resume(Strict):
    account: Handle | None = Field(None, description="one account; null resumes everything")


class PostOut(PostView):
    """A post as `pressgate show --json` prints it, and the actions you may take on it now."""

    actions: list[str]


@dataclass(frozen=True)
class Counts:
    drafts: int
    returned: int
    in_review: int
    awaiting_me: int


class InboxOut(BaseModel):
    drafts: list[PostRow]
    returned: list[PostRow]
    in_review: list[PostRow]
    awaiting_me: list[PostRow]
    counts: Counts


class Paused(BaseModel):
    """Where publishing stands after a pause or a resume."""

    account: str | None
    paused: bool
    until: datetime | None = Field(None, description="when a timed pause lifts (UTC)")
    resume_requested: bool = Field(
        False,
        description="resuming all publishing takes two people: the first one's resume is "
        "recorded as a request, and publishing stays paused until a second person resumes",
    )


class FieldError(BaseModel):
    field: str
    rule: str
    message: str


class Problem(BaseModel):
    """A refusal, as `application/problem+json` (RFC 9457): what was wrong and where."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(None, description="each field refused (400, 422)")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem documents a route may answer, for its OpenAPI description."""
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {status: {"model": Problem, "content": content} for status in statuses}


class Me(BaseModel):
    email: str
    name: str | None
    signed_in_with: str
    csrf_token: str = Field(description="send it as the X-CSRF-Token header on every change")
