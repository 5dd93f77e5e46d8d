"""`/`: my drafts and returns; for approvers, what awaits their decision; counts."""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from approvals.config import Action
from approvals.inbox import inbox
from approvals.map_store import current_map
from bot.web.deps import ViewerDep, person, read, render

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, who: ViewerDep) -> Response:
    with read(request) as session:
        me = person(session, who)
        pmap = current_map(session)
        accounts = [a.handle for a in pmap.corporate_accounts()]
        context = {
            "inbox": inbox(session, person=me),
            "may_draft": any(pmap.can(who.email, Action.DRAFT, h) for h in accounts),
            "may_approve": any(pmap.can(who.email, Action.APPROVE, h) for h in accounts),
        }
    return render(request, "pages/home.html", context)
