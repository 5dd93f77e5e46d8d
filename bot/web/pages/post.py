"""`/posts/{id}`: one post, its history, and the actions the viewer may take on it.

Each action is a small form posted to `/posts/{id}/<action>`; it goes to the same service
as the CLI inside `write(request)` (so its audit entries say `via: web`), then back to the
page with a notice. A refusal shows the page again with the service's message and a 4xx
status, having changed nothing. The buttons shown come from `approvals.actions`, but the
services decide: a forged form for an action not offered is refused like any other.
A post the viewer may not see is "not found", whatever the action.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from approvals import posts
from approvals.actions import visible_post
from approvals.errors import InvalidInput, NotFound, PressgateError, StaleRevision
from approvals.models import Person, Post
from approvals.post_detail import post_detail
from approvals.schedule import parse_local_time, show_local
from approvals.signoff import review
from bot import takedowns
from bot.web.auth import Viewer
from bot.web.csrf import csrf_protect
from bot.web.deps import ViewerDep, flash, now, person, read, render, settings_of, write
from bot.web.errors import status_of
from bot.web.pages.review import router as review_router
from bot.web.pages.review import show_review

router = APIRouter(dependencies=[Depends(csrf_protect)])
router.include_router(review_router)  # one router for the app to include

FormText = Annotated[str, Form()]
Back = Annotated[str, Form()]
Action = Callable[[Session, Post, Person], str]  # does it; returns the notice to show


@router.get("/posts/{post_id:int}", name="post_page")
def post_page(
    request: Request,
    post_id: int,
    who: ViewerDep,
    compare_from: Annotated[str | None, Query(alias="from")] = None,
    compare_to: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    return show_post(request, who, post_id, compare_from=compare_from, compare_to=compare_to)


def show_post(
    request: Request,
    who: Viewer,
    post_id: int,
    *,
    refusal: str | None = None,
    status: int = 200,
    compare_from: str | None = None,
    compare_to: str | None = None,
) -> Response:
    with read(request) as session:
        detail = post_detail(
            session,
            post_id=post_id,
            viewer=person(session, who),
            compare_from=compare_from,
            compare_to=compare_to,
            now=now(request),
        )
    if refusal is None and detail.comparison.problem is not None:
        status = 422
    context = {"detail": detail, "view": detail.view, "refusal": refusal, "back": "post"}
    return render(request, "pages/post.html", context, status=status)


def act(
    request: Request, who: Viewer, post_id: int, action: Action, back: str = "post"
) -> Response:
    """Run one action in a unit of work; on success, back to the page with a notice."""
    try:
        with write(request) as session:
            post = visible_post(session, post_id, who.email)
            notice = action(session, post, person(session, who))
    except NotFound:
        raise  # missing, or not the viewer's to see: the same "not found" page either way
    except PressgateError as error:  # refused: nothing was written (the unit rolled back)
        message = str(error)
        if isinstance(error, StaleRevision):  # say plainly that the decision did not count
            message = (
                f"Nothing was recorded: the words changed after this page was shown ({message})."
            )
        show = show_review if back == "review" else show_post
        return show(request, who, post_id, refusal=message, status=status_of(error))
    flash(request, notice)
    target = f"/posts/{post_id}/review" if back == "review" else f"/posts/{post_id}"
    return RedirectResponse(target, status_code=303)


@router.post("/posts/{post_id:int}/submit")
def submit(request: Request, post_id: int, who: ViewerDep) -> Response:
    def run(session: Session, post: Post, me: Person) -> str:
        posts.submit(session, actor=me, post_id=post_id, now=now(request))
        return "Submitted: the approvers have it now."

    return act(request, who, post_id, run)


@router.post("/posts/{post_id:int}/withdraw")
def withdraw(request: Request, post_id: int, who: ViewerDep, reason: FormText = "") -> Response:
    def run(session: Session, post: Post, me: Person) -> str:
        given = reason.strip() or None
        posts.withdraw(session, actor=me, post_id=post_id, now=now(request), reason=given)
        return "Withdrawn: it will not be published."

    return act(request, who, post_id, run)


@router.post("/posts/{post_id:int}/schedule")
def schedule(
    request: Request, post_id: int, who: ViewerDep, when: FormText = "", clear: FormText = ""
) -> Response:
    def run(session: Session, post: Post, me: Person) -> str:
        at = None
        if not clear:
            if not when.strip():
                raise InvalidInput("give the date and time to publish at, or unschedule it")
            at = parse_local_time(when, zone=post.timezone, now=now(request))
        posts.schedule(session, actor=me, post_id=post_id, when=at, now=now(request))
        return f"Publishing time: {show_local(at, post.timezone)}."

    return act(request, who, post_id, run)


@router.post("/posts/{post_id:int}/approve")
def approve(
    request: Request, post_id: int, who: ViewerDep, revision_hash: FormText = "", back: Back = ""
) -> Response:
    def run(session: Session, post: Post, me: Person) -> str:
        status = review.approve(
            session,
            actor=me,
            post_id=post_id,
            revision_hash=revision_hash,
            now=now(request),
            via="web",
        )
        return (
            f"Approved revision {post.revision_no}: {len(status.approvers)} of "
            f"{status.required} approvals count."
        )

    return act(request, who, post_id, run, back)


@router.post("/posts/{post_id:int}/reject")
def reject(
    request: Request,
    post_id: int,
    who: ViewerDep,
    revision_hash: FormText = "",
    reason: FormText = "",
    back: Back = "",
) -> Response:
    def run(session: Session, post: Post, me: Person) -> str:
        review.reject(
            session,
            actor=me,
            post_id=post_id,
            revision_hash=revision_hash,
            reason=reason.strip(),
            now=now(request),
            via="web",
        )
        return "Rejected: the author has your reason."

    return act(request, who, post_id, run, back)


@router.post("/posts/{post_id:int}/takedown")
def take_down(request: Request, post_id: int, who: ViewerDep, reason: FormText = "") -> Response:
    def run(session: Session, post: Post, me: Person) -> str:
        takedowns.take_down(
            session,
            settings=settings_of(request),
            engine=request.app.state.engine,
            clock=request.app.state.clock,
            actor=me,
            post_id=post_id,
            reason=reason.strip(),
        )
        return "Taken down from X."

    return act(request, who, post_id, run)
