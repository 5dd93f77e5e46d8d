"""`POST /api/v1/pause` and `/api/v1/resume`: the duty page's brakes, one account or all.

The same `controls.pause` / `resume` as the duty page and `pressgate pause`; the map decides
who may (the `pause` right on the account, or on every account for all publishing)."""

from fastapi import APIRouter, Request

from approvals import controls
from bot.web.api.models import Pause, Paused, Resume
from bot.web.deps import ViewerDep, now, person, write

router = APIRouter(tags=["duty"])


@router.post("/pause", response_model=Paused, name="api_pause")
def pause(request: Request, who: ViewerDep, body: Pause) -> Paused:
    with write(request) as session:
        controls.pause(
            session,
            actor=person(session, who),
            now=now(request),
            account_handle=body.account,
            reason=body.reason,
        )
    return Paused(account=body.account, paused=True)


@router.post("/resume", response_model=Paused, name="api_resume")
def resume(request: Request, who: ViewerDep, body: Resume) -> Paused:
    with write(request) as session:
        controls.resume(
            session, actor=person(session, who), now=now(request), account_handle=body.account
        )
    return Paused(account=body.account, paused=False)
