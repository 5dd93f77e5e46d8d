"""`/duty`: the crisis brakes. Pause and resume one account or everything, take a post down,
see what holds publishing and which accounts can reach X.

Each form goes to the same service as the CLI (`controls.pause` / `resume`,
`takedown.takedown` through `bot.takedowns`), inside `write(request)` so the audit entry
says `via: web`. The page shows a form only to people the map allows, but the service
decides: a refused request changes nothing and the page comes back with the reason.
"""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from approvals.config import DEFAULT_TIMEZONE
from approvals.db import MAX_ID
from approvals.delivery import controls
from approvals.delivery.duty import duty_board
from approvals.errors import InvalidInput, PressgateError
from approvals.map_store import get_account
from approvals.schedule import parse_local_time
from bot.takedowns import take_down
from bot.web.csrf import csrf_protect
from bot.web.deps import ViewerDep, flash, now, person, read, render, settings_of, write
from bot.web.errors import status_of

router = APIRouter(dependencies=[Depends(csrf_protect)])
EVERYTHING = "all"
MAX_REASON = 500
NUMBER = re.compile(r"[0-9]{1,10}")
Field = Annotated[str, Form()]


def _board(
    request: Request, who: ViewerDep, *, error: str | None = None, status: int = 200
) -> Response:
    with read(request) as session:
        board = duty_board(session, viewer=person(session, who), now=now(request))
    context = {"board": board, "error": error, "everything": EVERYTHING}
    return render(request, "pages/duty.html", context, status=status)


def _refused(request: Request, who: ViewerDep, error: PressgateError) -> Response:
    """The page again with the reason; the unit of work was rolled back, nothing changed."""
    return _board(request, who, error=str(error), status=status_of(error))


def _target(account: str) -> str | None:
    value = account.strip()
    if not value:
        raise InvalidInput("choose an account, or all publishing")
    return None if value.lower() == EVERYTHING else value


def _reason(reason: str, what: str) -> str:
    value = reason.strip()
    if not value:
        raise InvalidInput(f"give a reason for the {what}: it is kept in the audit log")
    if len(value) > MAX_REASON:
        raise InvalidInput(f"keep the reason under {MAX_REASON} characters")
    return value


def _post_id(value: str) -> int:
    text = value.strip().removeprefix("#")
    if not NUMBER.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise InvalidInput(f"{value.strip()!r} is not a post number")
    return int(text)


@router.get("/duty", name="duty")
def duty_page(request: Request, who: ViewerDep) -> Response:
    return _board(request, who)


@router.post("/duty/pause", name="duty_pause")
def pause(
    request: Request, who: ViewerDep, account: Field = "", reason: Field = "", until: Field = ""
) -> Response:
    try:
        handle, why = _target(account), _reason(reason, "pause")
        at = now(request)
        with write(request) as session:
            zone = get_account(session, handle).timezone if handle else DEFAULT_TIMEZONE
            ends = parse_local_time(until.strip(), zone=zone, now=at) if until.strip() else None
            controls.pause(
                session,
                actor=person(session, who),
                now=at,
                account_handle=handle,
                reason=why,
                until=ends,
            )
    except PressgateError as error:
        return _refused(request, who, error)
    lasts = f"until {until.strip()}" if until.strip() else "until resumed"
    flash(request, f"Paused: {handle or 'all publishing'}. Nothing goes out there {lasts}.")
    return RedirectResponse("/duty", status_code=303)


@router.post("/duty/resume", name="duty_resume")
def resume(request: Request, who: ViewerDep, account: Field = "") -> Response:
    try:
        handle = _target(account)
        with write(request) as session:
            done = controls.resume(
                session, actor=person(session, who), now=now(request), account_handle=handle
            )
    except PressgateError as error:
        return _refused(request, who, error)
    target = handle or "all publishing"
    if done.lifted:
        flash(request, f"Resumed: {target}. Posts that fell due go out in order.")
    else:
        flash(request, f"Resume of {target} requested: a second person must confirm it.")
    return RedirectResponse("/duty", status_code=303)


@router.post("/duty/takedown", name="duty_takedown")
def takedown(request: Request, who: ViewerDep, post: Field = "", reason: Field = "") -> Response:
    try:
        post_id, why = _post_id(post), _reason(reason, "takedown")
        with write(request) as session:
            taken = take_down(
                session,
                settings=settings_of(request),
                engine=request.app.state.engine,
                clock=request.app.state.clock,
                actor=person(session, who),
                post_id=post_id,
                reason=why,
            )
    except PressgateError as error:
        return _refused(request, who, error)
    flash(request, f"Post {taken.id} was taken down from X.")
    return RedirectResponse("/duty", status_code=303)
