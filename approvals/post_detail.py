"""Everything the post page and the review page show about one post, in one read.

The pages render this and decide nothing: who may see the post, which actions are offered,
what counts as the revision an approver "last saw", which approvals lapsed and why, are all
answered here, from the same rules the services apply.

"Last saw" is defined without writing anything on a page view (GET changes nothing): it is
the newest revision the approver decided on, approving or rejecting it. An approver who has
never decided on the post is having their first look, and there is nothing to compare.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from approvals.actions import (
    APPROVE,
    REJECT,
    allowed_actions,
    may_review,
    not_found,
    visible_post,
)
from approvals.diffs import RevisionDiff, diff_revisions, successive_diffs, words_of
from approvals.errors import NotFound
from approvals.history import (
    DecisionRow,
    RevisionRow,
    TrailEntry,
    decisions_on,
    last_decision,
    revisions_of,
    trail,
)
from approvals.models import Decision, Person, Post, PostState
from approvals.posts import authors_of
from approvals.summary import PostView, post_view

X_STATUS_URL = "https://x.com/{handle}/status/{id}"
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"  # the value an <input type="datetime-local"> takes


@dataclass(frozen=True)
class XLink:
    part: int  # 1-based
    url: str


@dataclass(frozen=True)
class Comparison:
    """Two revisions chosen by the reader (`?from=2&to=3`), or why they cannot be compared."""

    before: int
    after: int
    diff: RevisionDiff | None
    problem: str | None = None


@dataclass(frozen=True)
class PostDetail:
    view: PostView
    actions: frozenset[str]
    x_links: list[XLink]
    revisions: list[RevisionRow]
    steps: list[RevisionDiff]  # what each edit changed, oldest first
    comparison: Comparison
    trail: list[TrailEntry]
    superseded: list[str]  # approvals of earlier words, which no longer count
    scheduled_input: str  # the schedule as a datetime-local value in the account's zone
    may_review: bool


@dataclass(frozen=True)
class ReviewDetail:
    view: PostView
    actions: frozenset[str]  # approve and reject, as far as this person may
    is_author: bool
    last_seen: DecisionRow | None
    diff: RevisionDiff | None  # from the revision last seen to the current one
    lapse: str | None  # "You approved revision 1; it was edited since, …"
    superseded: list[str]


def post_detail(
    session: Session,
    *,
    post_id: int,
    viewer: Person,
    compare_from: str | None = None,
    compare_to: str | None = None,
    now: datetime | None = None,
) -> PostDetail:
    """The post page; `not_found` unless `viewer` holds a right on the post's account."""
    post = visible_post(session, post_id, viewer.email)
    view = post_view(session, post, now=now)
    words = words_of(session, post)
    decisions = decisions_on(session, post)
    return PostDetail(
        view=view,
        actions=allowed_actions(session, post, viewer),
        x_links=_x_links(view),
        revisions=revisions_of(session, post),
        steps=successive_diffs(session, post, words),
        comparison=_comparison(session, post, compare_from, compare_to),
        trail=trail(session, post),
        superseded=_superseded(decisions, post),
        scheduled_input=(
            post.scheduled_at.astimezone(ZoneInfo(post.timezone)).strftime(DATETIME_LOCAL)
            if post.scheduled_at
            else ""
        ),
        may_review=may_review(session, post, viewer),
    )


def review_detail(session: Session, *, post_id: int, viewer: Person) -> ReviewDetail:
    """The review page: for the account's approvers, and read-only for the post's authors;
    `not_found` for everyone else."""
    post = visible_post(session, post_id, viewer.email)
    if not may_review(session, post, viewer):
        raise not_found(post_id)
    assert viewer.id is not None
    view = post_view(session, post)
    decisions = decisions_on(session, post)
    seen = last_decision(decisions, viewer.id)
    diff = None
    if seen is not None and seen.revision != post.revision_no:
        diff = diff_revisions(session, post, seen.revision, post.revision_no)
    return ReviewDetail(
        view=view,
        actions=allowed_actions(session, post, viewer) & {APPROVE, REJECT},
        is_author=viewer.id in authors_of(session, post),
        last_seen=seen,
        diff=diff,
        lapse=_lapse(seen, post),
        superseded=_superseded(decisions, post),
    )


def _x_links(view: PostView) -> list[XLink]:
    """Links to the parts on X, while they are there (never for the sandbox's stand-ins)."""
    if view.state != PostState.PUBLISHED.value or view.sandbox:
        return []
    handle = view.account.lstrip("@")
    return [
        XLink(p.position + 1, X_STATUS_URL.format(handle=handle, id=p.x_post_id))
        for p in view.parts
        if p.x_post_id
    ]


def _comparison(session: Session, post: Post, before: str | None, after: str | None) -> Comparison:
    """The reader's chosen pair; by default the last edit (or nothing, for one revision)."""
    default_before = max(post.revision_no - 1, 1)
    if not (before or "").strip() and not (after or "").strip():
        return Comparison(default_before, post.revision_no, None)
    numbers: list[int] = []
    for label, text in (("from", before), ("to", after)):
        value = (text or "").strip()
        if not value.isdigit() or len(value) > 9:
            problem = f"choose a revision to compare {label} (1 to {post.revision_no})"
            return Comparison(default_before, post.revision_no, None, problem)
        numbers.append(int(value))
    try:
        diff = diff_revisions(session, post, numbers[0], numbers[1])
    except NotFound as error:
        return Comparison(numbers[0], numbers[1], None, str(error))
    return Comparison(numbers[0], numbers[1], diff)


def _superseded(decisions: list[DecisionRow], post: Post) -> list[str]:
    """Approvals of earlier revisions by people who have not decided on the current one."""
    decided_now = {d.person_id for d in decisions if d.revision == post.revision_no}
    latest: dict[int, DecisionRow] = {}
    for decision in decisions:
        if decision.person_id not in decided_now:
            latest[decision.person_id] = decision
    return [
        f"{d.email} approved revision {d.revision}; it was edited since (now revision "
        f"{post.revision_no}), so that approval no longer counts"
        for d in latest.values()
        if d.decision == Decision.APPROVE
    ]


def _lapse(seen: DecisionRow | None, post: Post) -> str | None:
    if seen is None or seen.revision == post.revision_no:
        return None
    if seen.decision == Decision.APPROVE:
        return (
            f"You approved revision {seen.revision}; it was edited since, so your approval "
            "no longer counts"
        )
    return f"You rejected revision {seen.revision}; it was edited since"
