"""`POST /api/v1/check`: the content policy as JSON, for the drafting page's live check and
for other tools. It stores nothing; the policy is the map in force.

Like every route of the API it answers only a signed-in person, with the CSRF header (see
`bot.web.api`): its findings say which words the map blocks and that a handle is a member
of staff's personal account, which nobody outside the organisation may probe for.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from approvals.content.findings import Finding
from approvals.content.policy import PartToCheck, check_config
from approvals.db import session_scope
from approvals.errors import Refused
from approvals.map_store import current_map
from approvals.posts import MAX_ALT_TEXT, MAX_MEDIA_PER_PART, MAX_PART_CHARS, MAX_PARTS

router = APIRouter(tags=["check"])
# Every string a request carries has a cap. (A lone surrogate, which JSON can carry as
# "\ud800", is refused by pydantic's own str validation: 400, see bot.web.problems.)
PartText = Annotated[str, Field(max_length=MAX_PART_CHARS)]
AltText = Annotated[str, Field(max_length=MAX_ALT_TEXT)]


class PartIn(BaseModel):
    """The limits of a draft: what passes the check can be drafted."""

    text: PartText
    alt_texts: Annotated[list[AltText | None], Field(max_length=MAX_MEDIA_PER_PART)] = []


class CheckIn(BaseModel):
    parts: Annotated[list[PartIn], Field(min_length=1, max_length=MAX_PARTS)]


class FindingOut(BaseModel):
    rule: str
    severity: str
    part: int
    start: int
    end: int
    excerpt: str
    explanation: str


class CheckOut(BaseModel):
    ok: bool
    max_length: int
    lengths: list[int]
    findings: list[FindingOut]


@router.post("/check", response_model=CheckOut)
def check_post(body: CheckIn, request: Request) -> CheckOut:
    """Weighted lengths and findings; `ok` is false when a finding blocks."""
    try:
        with session_scope(request.app.state.engine, read_only=True) as session:
            config = current_map(session).config
    except Refused as error:
        raise HTTPException(503, str(error)) from None
    parts = [PartToCheck(p.text, tuple(p.alt_texts)) for p in body.parts]
    report = check_config(parts, config)
    return CheckOut(
        ok=not report.blocking,
        max_length=report.max_length,
        lengths=report.lengths,
        findings=[_out(f) for f in report.findings],
    )


def _out(finding: Finding) -> FindingOut:
    return FindingOut(**finding.__dict__)
