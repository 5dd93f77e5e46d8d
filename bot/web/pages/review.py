"""`/posts/{id}/review`: what an approver opens from Slack to decide on a post.

The exact words and their hash, what changed since the revision this approver last decided
on, the findings, the schedule and who has approved; Approve binds the hash shown. Reading
it changes nothing (browsers and Slack prefetch links).
"""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from approvals.post_detail import review_detail
from bot.web.auth import Viewer
from bot.web.deps import ViewerDep, person, read, render

router = APIRouter()


@router.get("/posts/{post_id:int}/review", name="review_page")
def review_page(request: Request, post_id: int, who: ViewerDep) -> Response:
    return show_review(request, who, post_id)


def show_review(
    request: Request, who: Viewer, post_id: int, *, refusal: str | None = None, status: int = 200
) -> Response:
    """The review page, optionally with why the last request was refused."""
    with read(request) as session:
        detail = review_detail(session, post_id=post_id, viewer=person(session, who))
    context = {"detail": detail, "view": detail.view, "refusal": refusal, "back": "review"}
    return render(request, "pages/review.html", context, status=status)
