"""`/analytics`: the strategy lead's dashboard, and the same figures as CSV.

Who may see which account is the domain's call (`approvals.analytics.dashboard`); the page
only parses the form (a plain GET), calls it once and renders. Charts are drawn by Chart.js,
served from /static; every chart's figures are also in a table, so the page works without
JavaScript and without telling series apart by colour.
"""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from approvals.analytics.dashboard import dashboard_asked
from approvals.analytics.export import WEEKDAYS, chart_data, to_csv
from bot.web.deps import ViewerDep, now, read, render

router = APIRouter()
From = Annotated[str, Query(alias="from", max_length=40)]
To = Annotated[str, Query(alias="to", max_length=40)]
Short = Annotated[str, Query(max_length=200)]


def asked(
    start: From = "", end: To = "", account: Short = "", campaign: Short = ""
) -> dict[str, str]:
    """The form's fields as typed; the domain parses them (and says what is wrong)."""
    return {"start": start, "end": end, "account": account, "campaign": campaign}


Asked = Annotated[dict[str, str], Depends(asked)]


@router.get("/analytics", name="analytics")
def analytics_page(request: Request, who: ViewerDep, form: Asked) -> Response:
    with read(request) as session:
        board = dashboard_asked(session, viewer=who.email, today=now(request).date(), **form)
    query = urlencode({k: v for k, v in _query(form).items() if v.strip()})
    context = {
        "d": board,
        "form": form,
        "weekdays": WEEKDAYS,
        "query": query,
        "chart": chart_data(board),
    }
    return render(request, "pages/analytics.html", context)


@router.get("/analytics/export.csv", name="analytics_export")
def analytics_export(request: Request, who: ViewerDep, form: Asked) -> Response:
    with read(request) as session:
        board = dashboard_asked(session, viewer=who.email, today=now(request).date(), **form)
    name = f"pressgate-analytics-{board.start}-{board.end}.csv"
    return Response(
        to_csv(board),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _query(form: dict[str, str]) -> dict[str, str]:
    return {
        "from": form["start"],
        "to": form["end"],
        "account": form["account"],
        "campaign": form["campaign"],
    }
