"""`/api/v1/posts`: write, read and move posts, as the post and compose pages do.

Each route parses its body, calls the same domain service as the page and the CLI inside
`write(request)` (so its audit entries say `via: web`), and answers the post as it now
stands. A post the caller may not see is 404, exactly like one that does not exist; a
refusal is a problem document and changes nothing (the unit of work rolls back).
"""

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from sqlmodel import Session

from approvals import compose, posts
from approvals.actions import allowed_actions, visible_post
from approvals.map_store import get_account
from approvals.models import Person, Post
from approvals.posts import MediaRef, PartInput
from approvals.schedule import parse_local_time
from approvals.signoff import review
from approvals.summary import post_view
from bot.takedowns import take_down
from bot.web.api import models as m
from bot.web.deps import ViewerDep, now, person, read, settings_of, write

router = APIRouter(prefix="/posts", tags=["posts"])
Action = Callable[[Session, Post, Person, datetime], object]


def post_out(session: Session, post: Post, me: Person) -> m.PostOut:
    view = post_view(session, post)
    actions = sorted(allowed_actions(session, post, me))
    return m.PostOut.model_validate({**view.__dict__, "actions": actions})


def parts_of(body: list[m.PartIn]) -> list[PartInput]:
    return [
        PartInput(part.text, [MediaRef(i.sha256, i.alt_text) for i in part.images]) for part in body
    ]


def local_time(at: str | None, zone: str, when: datetime) -> datetime | None:
    return None if at is None else parse_local_time(at, zone=zone, now=when)


def act(request: Request, who: ViewerDep, post_id: int, action: Action) -> m.PostOut:
    """One action on a post the caller may see, in one unit of work."""
    when = now(request)
    with write(request) as session:
        post = visible_post(session, post_id, who.email)
        me = person(session, who)
        action(session, post, me, when)
        session.refresh(post)
        return post_out(session, post, me)


@router.post("", status_code=201, response_model=m.PostOut, name="api_create")
def create(request: Request, who: ViewerDep, body: m.NewDraft) -> m.PostOut:
    """A new draft (submitted at once with `submit`); the map decides who may draft where."""
    when = now(request)
    with write(request) as session:
        me = person(session, who)
        account = get_account(session, body.account)
        saved = compose.save_new(
            session,
            actor=me,
            account_handle=account.handle,
            parts=parts_of(body.parts),
            scheduled_at=local_time(body.at, account.timezone, when),
            submit=body.submit,
            now=when,
        )
        return post_out(session, saved.post, me)


@router.get("/{post_id}", response_model=m.PostOut, name="api_show")
def show(request: Request, who: ViewerDep, post_id: int) -> m.PostOut:
    """The post, its approvals and findings, and the actions you may take on it now."""
    with read(request) as session:
        return post_out(session, visible_post(session, post_id, who.email), person(session, who))


@router.patch("/{post_id}", response_model=m.PostOut, name="api_edit")
def edit(request: Request, who: ViewerDep, post_id: int, body: m.DraftChanges) -> m.PostOut:
    """New words (refused if they changed since `expected_hash`), a new time if `at` is given."""

    def run(session: Session, post: Post, me: Person, when: datetime) -> None:
        reschedule = None
        if "at" in body.model_fields_set:
            reschedule = compose.Reschedule(local_time(body.at, post.timezone, when))
        compose.save_changes(
            session,
            actor=me,
            post_id=post_id,
            parts=parts_of(body.parts),
            expected_hash=body.expected_hash,
            reschedule=reschedule,
            submit=body.submit,
            now=when,
        )

    return act(request, who, post_id, run)


@router.post("/{post_id}/submit", response_model=m.PostOut, name="api_submit")
def submit(request: Request, who: ViewerDep, post_id: int) -> m.PostOut:
    def run(session: Session, post: Post, me: Person, when: datetime) -> None:
        posts.submit(session, actor=me, post_id=post_id, now=when)

    return act(request, who, post_id, run)


@router.post("/{post_id}/withdraw", response_model=m.PostOut, name="api_withdraw")
def withdraw(request: Request, who: ViewerDep, post_id: int, body: m.Withdraw) -> m.PostOut:
    def run(session: Session, post: Post, me: Person, when: datetime) -> None:
        posts.withdraw(session, actor=me, post_id=post_id, now=when, reason=body.reason or None)

    return act(request, who, post_id, run)


@router.post("/{post_id}/schedule", response_model=m.PostOut, name="api_schedule")
def schedule(request: Request, who: ViewerDep, post_id: int, body: m.Schedule) -> m.PostOut:
    def run(session: Session, post: Post, me: Person, when: datetime) -> None:
        at = local_time(body.at, post.timezone, when)
        posts.schedule(session, actor=me, post_id=post_id, when=at, now=when)

    return act(request, who, post_id, run)


@router.post("/{post_id}/approve", response_model=m.PostOut, name="api_approve")
def approve(request: Request, who: ViewerDep, post_id: int, body: m.Approve) -> m.PostOut:
    """Approve the revision whose hash you were shown: if the words changed since, 409."""

    def run(session: Session, post: Post, me: Person, when: datetime) -> None:
        review.approve(
            session,
            actor=me,
            post_id=post_id,
            revision_hash=body.revision_hash,
            now=when,
            via="web",
        )

    return act(request, who, post_id, run)


@router.post("/{post_id}/reject", response_model=m.PostOut, name="api_reject")
def reject(request: Request, who: ViewerDep, post_id: int, body: m.Reject) -> m.PostOut:
    def run(session: Session, post: Post, me: Person, when: datetime) -> None:
        review.reject(
            session,
            actor=me,
            post_id=post_id,
            revision_hash=body.revision_hash,
            reason=body.reason,
            now=when,
            via="web",
        )

    return act(request, who, post_id, run)


@router.post("/{post_id}/takedown", response_model=m.PostOut, name="api_takedown")
def takedown(request: Request, who: ViewerDep, post_id: int, body: m.Takedown) -> m.PostOut:
    """Delete a published post from X (every part); for those the map lets take it down."""

    def run(session: Session, post: Post, me: Person, when: datetime) -> None:
        take_down(
            session,
            settings=settings_of(request),
            engine=request.app.state.engine,
            clock=request.app.state.clock,
            actor=me,
            post_id=post_id,
            reason=body.reason,
        )

    return act(request, who, post_id, run)
