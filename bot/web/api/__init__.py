"""The JSON API under `/api/v1`: the pages' actions for programs, with the same rights.

Every route needs a signed-in person (401 otherwise, before anything else is looked at) and
every change the session's CSRF token in `X-CSRF-Token` (403 otherwise). Errors are problem
documents (`bot.web.problems`, `bot.web.errors`). One module per resource; each route calls
the domain service the page and the CLI call.
"""

from fastapi import APIRouter, Depends

from bot.web.api import check, controls, inbox, posts, session
from bot.web.api.models import ACTION_MAX_BYTES, DRAFT_MAX_BYTES, problems
from bot.web.auth import require_viewer
from bot.web.csrf import csrf_protect

router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(require_viewer), Depends(csrf_protect)],
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
for module in (session, inbox, posts, controls, check):
    router.include_router(module.router)

# Per-route body limits for `bot.web.body_limit.BodyLimit`.
BODY_LIMITS = {
    "/api/v1/posts": DRAFT_MAX_BYTES,
    "/api/v1/posts/*": DRAFT_MAX_BYTES,
    "/api/v1/posts/*/*": ACTION_MAX_BYTES,
    "/api/v1/pause": ACTION_MAX_BYTES,
    "/api/v1/resume": ACTION_MAX_BYTES,
}
