"""`/calendar`: an account's week (or all of mine), in the account's local time."""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from approvals.calendar import IsoWeek, calendar
from bot.web.deps import ViewerDep, now, person, read, render

router = APIRouter()
ALL = "all"


@router.get("/calendar", name="calendar")
def calendar_page(
    request: Request, who: ViewerDep, account: str = ALL, week: str | None = None
) -> Response:
    shown_week = IsoWeek.parse(week) if week else IsoWeek.current(now(request))
    handle = None if account.strip().lower() in ("", ALL) else account
    with read(request) as session:
        found = calendar(session, viewer=person(session, who), week=shown_week, account=handle)
    return render(request, "pages/calendar.html", {"cal": found, "all": ALL})
