"""`/audit`: the audit log, its `verify` result on top, filters, pages, and a JSON-lines export.

Who may read it is the domain's call (`approvals.records.audit_search`); everyone else gets the
403 page. Dates are UTC days and the page says so.
"""

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from starlette.requests import Request
from starlette.responses import Response

from approvals.db import MAX_ID
from approvals.errors import InvalidInput
from approvals.records import audit_search
from approvals.records.audit_search import AuditFilters
from bot.web.deps import ViewerDep, now, person, read, render

router = APIRouter()
NUMBER = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class FilterQuery:
    """The filters as typed, parsed, and again as a query string for the page's links."""

    form: dict[str, str]
    filters: AuditFilters
    query: str


def filter_query(
    actor: Annotated[str, Query(alias="who")] = "",
    what: str = "",
    post: str = "",
    since: Annotated[str, Query(alias="from")] = "",
    until: Annotated[str, Query(alias="to")] = "",
) -> FilterQuery:
    filters = AuditFilters.parse(actor=actor, action=what, post=post, since=since, until=until)
    form = {"who": actor, "what": what, "post": post, "from": since, "to": until}
    query = urlencode({k: v.strip() for k, v in form.items() if v.strip()})
    return FilterQuery(form, filters, query)


Filters = Annotated[FilterQuery, Depends(filter_query)]


def _before(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not NUMBER.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise InvalidInput(f"before: {text!r} is not an entry number")
    return int(text)


@router.get("/audit", name="audit_log")
def audit_log(request: Request, who: ViewerDep, given: Filters, before: str = "") -> Response:
    with read(request) as session:
        page = audit_search.audit_page(
            session,
            reader=person(session, who),
            filters=given.filters,
            before=_before(before),
            verdicts=request.app.state.chain_verdicts,
            now=now(request),
        )
    context = {
        "page": page,
        "query": given.query,
        "form": given.form,
        "first_page": before.strip() == "",
        "whole_walk_minutes": int(
            request.app.state.chain_verdicts.whole_walk_every.total_seconds() // 60
        ),
    }
    return render(request, "pages/audit_log.html", context)


@router.get("/audit/export", name="audit_export")
def audit_export(request: Request, who: ViewerDep, given: Filters) -> Response:
    """The matching entries as JSON lines, oldest first, in `pressgate audit export`'s format."""
    with read(request) as session:
        upto = audit_search.export_upto(session, reader=person(session, who))
    lines = audit_search.export_lines(lambda: read(request), filters=given.filters, upto=upto)
    name = f"pressgate-audit-{now(request):%Y%m%dT%H%M%SZ}.jsonl"
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
