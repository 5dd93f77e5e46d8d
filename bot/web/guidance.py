"""The personal-use guidance page, its self-check form, and "I have read this".

The guidance is for all staff: anyone can read it and use the self-check without signing
in; recording that you have read it needs a signed-in person of the map (the receipt is
kept against their name, as `pressgate guidance read` keeps it). The text is the
organisation's Markdown, rendered in safe mode (`bot.web.markdown`).

The check takes a draft of someone's own post, which may hold their personal details: it
runs in a read-only transaction, writes nothing, logs nothing and asks browsers not to
cache the answer. The form is parsed here from the URL-encoded body (the only encoding a
single-field HTML form sends), so the page needs no multipart parser as a dependency. It
changes nothing, so it needs no CSRF token and works for people who are not signed in.
"""

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from approvals.content.findings import Finding
from approvals.errors import Refused
from approvals.map_store import current_map, get_person
from approvals.models import GuidanceRead
from approvals.staff import guidance
from approvals.staff.self_check import self_check
from bot.web.auth import NotInMap, Viewer, viewer
from bot.web.csrf import csrf_protect
from bot.web.deps import ViewerDep, flash, now, person, read, render, write
from bot.web.markdown import render_markdown

PAGE = "pages/guidance.html"
MAX_DRAFT_CHARS = 10_000  # far beyond any post; enough for a long draft on another network
# At worst every character is four bytes of UTF-8, each percent-encoded as three.
MAX_BODY_BYTES = 3 * 4 * MAX_DRAFT_CHARS + 1024

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
    return _render(request, draft=draft, findings=[], check=True)


@router.post("/guidance/read", name="guidance_read", dependencies=[Depends(csrf_protect)])
def guidance_read(request: Request, who: ViewerDep) -> Response:
    """Record that the signed-in person has read the current version (audited, once)."""
    with write(request) as session:
        receipt = guidance.record_read(session, person=person(session, who), now=now(request))
    flash(request, f"Recorded: you have read version {receipt.version_id} of the guidance.")
    return RedirectResponse("/guidance", status_code=303)


def _reader(request: Request) -> Viewer | None:
    """Who is reading, if they are signed in as someone of the map; the page is for all."""
    try:
        return viewer(request)
    except NotInMap:
        return None


def _render(
    request: Request, *, draft: str, findings: list[Finding] | None, check: bool = False
) -> Response:
    reader = _reader(request)
    context: dict[str, Any] = {
        "draft": draft,
        "findings": findings,
        "segments": [],
        "error": None,
        "max_length": MAX_DRAFT_CHARS,
        "unavailable": None,
        "reader": reader,
        "receipt": None,
    }
    status = 200
    try:
        with read(request) as session:
            view = guidance.current_guidance(session)
            config = current_map(session).config
            receipt: GuidanceRead | None = None
            if reader is not None:
                me = get_person(session, reader.email)
                receipt = guidance.receipt_of(session, person=me)
    except Refused as error:
        context["unavailable"] = str(error)
        return render(request, PAGE, context, status=503)
    context.update(text=render_markdown(view.text, demote=1), version=view.version, receipt=receipt)
    if check:
        if not draft.strip():
            context.update(findings=None, error="Type or paste a draft to check.")
            status = 422
        elif len(draft) > MAX_DRAFT_CHARS:
            context["error"] = f"Drafts of up to {MAX_DRAFT_CHARS:,} characters can be checked."
            context["findings"] = None
            status = 413
        else:
            found = self_check(draft, config)
            context.update(findings=found, segments=_segments(draft, found))
    # The draft may hold personal details and the receipt is personal: never cached.
    return render(request, PAGE, context, status=status)


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
