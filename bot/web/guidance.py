"""The personal-use guidance page and its self-check form.

The check takes a draft of someone's own post, which may hold their personal details: it
runs in a read-only transaction, writes nothing, logs nothing and asks browsers not to
cache the answer. The form is parsed here from the URL-encoded body (the only encoding a
single-field HTML form sends), so the page needs no multipart parser as a dependency.
"""

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from approvals import guidance
from approvals.db import session_scope
from approvals.errors import Refused
from approvals.findings import Finding
from approvals.map_store import current_map

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
PAGE = "pages/guidance.html"
MAX_DRAFT_CHARS = 10_000  # far beyond any post; enough for a long draft on another network
# At worst every character is four bytes of UTF-8, each percent-encoded as three.
MAX_BODY_BYTES = 3 * 4 * MAX_DRAFT_CHARS + 1024

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined
    )
)
router = APIRouter()


async def _draft(request: Request) -> str:
    """The `text` field of the posted form, read with a size limit."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form URL-encoded")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, "the draft is too long to check")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not valid UTF-8") from None
    return fields.get("text", [""])[0]


@router.get("/guidance", response_class=HTMLResponse, name="guidance_page")
def guidance_page(request: Request) -> Response:
    """The guidance as published (or the draft the map renders), with the self-check form."""
    return _render(request, draft="", findings=None)


@router.post("/guidance/check", response_class=HTMLResponse, name="guidance_check")
def guidance_check(request: Request, draft: Annotated[str, Depends(_draft)]) -> Response:
    """The same page with the findings for a draft; advisory, and it stores nothing."""
    response = _render(request, draft=draft, findings=[], check=True)
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(
    request: Request, *, draft: str, findings: list[Finding] | None, check: bool = False
) -> Response:
    context: dict[str, Any] = {
        "draft": draft,
        "findings": findings,
        "segments": [],
        "error": None,
        "max_length": MAX_DRAFT_CHARS,
        "unavailable": None,
    }
    status = 200
    try:
        with session_scope(request.app.state.engine, read_only=True) as session:
            view = guidance.current_guidance(session)
            config = current_map(session).config
    except Refused as error:
        context["unavailable"] = str(error)
        return templates.TemplateResponse(request, PAGE, context, status_code=503)
    context.update(text=view.text, version=view.version)
    if check:
        if not draft.strip():
            context.update(findings=None, error="Type or paste a draft to check.")
            status = 422
        elif len(draft) > MAX_DRAFT_CHARS:
            context["error"] = f"Drafts of up to {MAX_DRAFT_CHARS:,} characters can be checked."
            context["findings"] = None
            status = 413
        else:
            found = guidance.self_check(draft, config)
            context.update(findings=found, segments=_segments(draft, found))
    return templates.TemplateResponse(request, PAGE, context, status_code=status)


def _segments(text: str, findings: list[Finding]) -> list[tuple[str, bool]]:
    """The draft cut into runs, each flagged or not, so the page can mark what was found."""
    spans: list[list[int]] = []
    for finding in sorted(findings, key=lambda f: f.start):
        if spans and finding.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], finding.end)
        else:
            spans.append([finding.start, finding.end])
    segments: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        if start > at:
            segments.append((text[at:start], False))
        segments.append((text[start:end], True))
        at = end
    if at < len(text):
        segments.append((text[at:], False))
    return segments
