"""`GET /api/v1/inbox`: what the home page lists for the caller: their drafts, what came
back to them, what is in review, and what awaits their decision."""

from fastapi import APIRouter, Request

from approvals.inbox import inbox
from bot.web.api.models import Counts, InboxOut
from bot.web.deps import ViewerDep, person, read

router = APIRouter(tags=["inbox"])


@router.get("/inbox", response_model=InboxOut, name="api_my_inbox")
def my_inbox(request: Request, who: ViewerDep) -> InboxOut:
    with read(request) as session:
        found = inbox(session, person=person(session, who))
    return InboxOut(
        drafts=found.drafts,
        returned=found.returned,
        in_review=found.in_review,
        awaiting_me=found.awaiting_me,
        counts=Counts(**found.counts),
    )
