"""`POST /api/v1/pause` and `/api/v1/resume`: the duty page's brakes, one account or all.

The same `controls.pause` / `resume` as the duty page and `pressgate pause`; the map decides
who may (the `pause` right on the account, or on every account for all publishing), and
resuming all publishing takes two different people."""

from fastapi import APIRouter, Request

from approvals.config import DEFAULT_TIMEZONE
from approvals.delivery import controls
from approvals.map_store import get_account
from approvals.schedule import parse_local_time
from bot.web.api.models import Pause, Paused, Resume
from bot.web.deps import ViewerDep, now, person, write

router = APIRouter(tags=["duty"])


@router.post("/pause", response_model=Paused, name="api_pause")
def pause(request: Request, who: ViewerDep, body: Pause) -> Paused:
    at = now(request)
    with write(request) as session:
        until = None
        if body.until is not None:  # a local time: the account's zone, or the default for all
            zone = get_account(session, body.account).timezone if body.account else None
            until = parse_local_time(body.until, zone=zone or DEFAULT_TIMEZONE, now=at)
        controls.pause(
            session,
            actor=person(session, who),
            now=at,
            account_handle=body.account,
            reason=body.reason,
            until=until,
        )
    return Paused(account=body.account, paused=True, until=until)


@router.post("/resume", response_model=Paused, name="api_resume")
def resume(request: Request, who: ViewerDep, body: Resume) -> Paused:
    with write(request) as session:
        done = controls.resume(
            session, actor=person(session, who), now=now(request), account_handle=body.account
        )
    return Paused(account=body.account, paused=not done.lifted, resume_requested=not done.lifted)
