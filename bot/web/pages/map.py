"""`/map`: who may do what where, as `pressgate map explain` answers it, for everyone at once.

Read-only and open to anyone signed in: the map is the organisation's written rules. Staff's
personal handles are left out (`approvals.map_view`).
"""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from approvals.map_view import map_view
from bot.web.deps import ViewerDep, read, render

router = APIRouter()


@router.get("/map", name="permission_map")
def permission_map(request: Request, who: ViewerDep) -> Response:
    with read(request) as session:
        view = map_view(session)
    return render(request, "pages/map.html", {"map": view})
