"""`POST /api/v1/templates/{name}/render`: a post template's parts for the values given.

The compose page's template picker fills the parts from it without reloading the page; the
page without JavaScript renders the same way on the server. It renders and stores nothing
(the same `post_templates.render` as `pressgate draft --template`), but it answers only a
signed-in person and, like every cookie-authenticated POST, only with the CSRF header.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from approvals.content import post_templates
from bot.web.auth import require_viewer
from bot.web.csrf import csrf_protect
from bot.web.deps import read, settings_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(csrf_protect)])
Name = Annotated[str, Field(max_length=100)]
Value = Annotated[str, Field(max_length=post_templates.MAX_OUTPUT)]


class RenderIn(BaseModel):
    values: Annotated[dict[Name, Value], Field(max_length=100)] = {}


class RenderOut(BaseModel):
    name: str
    parts: list[str]


@router.post(
    "/templates/{name}/render",
    response_model=RenderOut,
    dependencies=[Depends(require_viewer)],
)
def render_template(name: str, body: RenderIn, request: Request) -> RenderOut:
    """The thread's parts as the template renders them; a problem document (404, 422, 409)
    names what is wrong: an unknown template, a missing or unknown value, a sandbox refusal."""
    with read(request) as session:
        spec = post_templates.find_template(session, name, settings_of(request).templates_dir)
    return RenderOut(name=spec.name, parts=post_templates.render(spec, body.values))
