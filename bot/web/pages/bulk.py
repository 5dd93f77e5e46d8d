"""`/import`: bulk scheduling in the browser, the same steps as `pressgate import`.

An officer uploads the CSV and its images and sees every row checked
(`approvals.importing.bulk.check`) before anything is saved. Saving does not trust the browser to
send the checked rows back: the confirming form posts the same files again, the server checks them
again from scratch, and saves only if they pass and are the very files that were shown (the
preview's digest travels in the form). With JavaScript the page checks without leaving itself, so
the files stay chosen; without it the officer chooses them again to save.

Uploads are bounded while they are read: the route's own body limit (`MAX_BODY_BYTES`, the
CSV's limit plus the images' plus room for the form) answers 413 as soon as a body passes
it, and the domain holds the CSV and each image to their own limits.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from approvals.errors import PressgateError
from approvals.importing import bulk, bulk_csv
from approvals.importing.bulk import ImportFile, ImportPlan
from approvals.importing.bulk_images import MAX_TOTAL_IMAGE_BYTES, UploadedImages, image_name
from approvals.posts import MAX_MEDIA_PER_PART
from bot.web.auth import Viewer
from bot.web.csrf import csrf_protect
from bot.web.deps import ViewerDep, flash, now, person, read, render, settings_of, write
from bot.web.errors import status_of

PAGE = "pages/bulk.html"
MAX_FILES = 1 + bulk_csv.MAX_ROWS * MAX_MEDIA_PER_PART  # the CSV and every image it could name
MAX_FIELDS = 8  # csrf_token, action, checked: a few to spare
# The whole request: the CSV, the images an import may hold, and the multipart framing.
MAX_BODY_BYTES = bulk_csv.MAX_FILE_BYTES + MAX_TOTAL_IMAGE_BYTES + 1_000_000
ACTIONS = frozenset({"check", "save", "submit"})


async def _parse_upload(request: Request) -> None:
    """Parse the form once, with this page's limits, before the CSRF check reads it (the
    parsed form is kept on the request, so the check and the route see the same one)."""
    if request.method == "POST":
        await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)


router = APIRouter(dependencies=[Depends(_parse_upload), Depends(csrf_protect)])


@dataclass(frozen=True)
class _Upload:
    action: str
    checked: str
    csv: ImportFile | None
    images: dict[str, BinaryIO]
    duplicate: str | None  # an image name given twice


@router.get("/import", name="bulk_page")
def bulk_page(request: Request, who: ViewerDep) -> Response:
    return _page(request)


@router.get("/import/template.csv", name="bulk_template")
def bulk_template(request: Request, who: ViewerDep) -> Response:
    """A CSV to start from: the header and two rows dated next week, so it checks as it is."""
    day = now(request).date()
    body = bulk_csv.example(
        (day + timedelta(days=7)).isoformat(), (day + timedelta(days=8)).isoformat()
    )
    return Response(
        # With a byte-order mark, Excel opens it as UTF-8 (the import reads either).
        body.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pressgate-bulk.csv"'},
    )


@router.post("/import", max_body_size=MAX_BODY_BYTES)
async def bulk_import(request: Request, who: ViewerDep) -> Response:
    form = await request.form()
    try:
        upload = await _upload(form)
        if upload.csv is None:
            return _page(request, error="Choose the CSV file to check.", status=422)
        if upload.duplicate is not None:
            error = f"Two images are called {upload.duplicate}: rename one, and the row naming it."
            return _page(request, error=error, status=422)
        # Checking reads images and renders templates: slow, blocking work, off the event loop.
        return await run_in_threadpool(_check_then_save, request, who, upload)
    finally:
        await form.close()  # the uploaded files' temporary copies go now, not when collected


async def _upload(form: FormData) -> _Upload:
    action = form.get("action")
    checked = form.get("checked")
    csv = form.get("csv")
    document = None
    if isinstance(csv, UploadFile) and csv.filename:
        document = ImportFile(image_name(csv.filename), await csv.read(bulk_csv.MAX_FILE_BYTES + 1))
    images: dict[str, BinaryIO] = {}
    duplicate = None
    for item in form.getlist("images"):
        if isinstance(item, UploadFile) and item.filename:
            name = image_name(item.filename)
            duplicate = name if name in images else duplicate
            images[name] = item.file
    return _Upload(
        action=action if isinstance(action, str) and action in ACTIONS else "check",
        checked=checked if isinstance(checked, str) else "",
        csv=document,
        images=images,
        duplicate=duplicate,
    )


def _check_then_save(request: Request, who: Viewer, upload: _Upload) -> Response:
    assert upload.csv is not None
    at = now(request)
    with read(request) as session:
        plan = bulk.check(
            session,
            actor_email=who.email,
            upload=upload.csv,
            images=UploadedImages(upload.images),
            now=at,
            templates_dir=settings_of(request).templates_dir,
        )
    if upload.action == "check":
        return _page(request, plan, status=422 if plan.problems(submit=False) else 200)
    submit = upload.action == "submit"
    if upload.checked != plan.digest:
        changed = (
            "These are not the files that were checked, so nothing was saved: check the rows "
            "below, then save."
        )
        return _page(request, plan, notice=changed, status=409)
    if plan.problems(submit=submit):
        return _page(request, plan, submit=submit, status=422)
    try:
        with write(request) as session:
            bulk.save(session, actor=person(session, who), plan=plan, submit=submit, now=at)
    except PressgateError as error:  # the map changed since the check, say: shown, not saved
        return _page(request, plan, error=str(error), status=status_of(error))
    count, name = len(plan.rows), plan.file
    if submit:
        flash(request, f"Submitted {count} posts from {name} for approval.")
    else:
        flash(request, f"Saved {count} posts from {name} as drafts.")
    return RedirectResponse("/", status_code=303)


def _page(
    request: Request,
    plan: ImportPlan | None = None,
    *,
    submit: bool = False,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "plan": plan,
        "error": error,
        "notice": notice,
        "shown_for_submit": submit,
        "max_rows": bulk_csv.MAX_ROWS,
        "max_csv_bytes": bulk_csv.MAX_FILE_BYTES,
        "max_body_bytes": MAX_BODY_BYTES,
    }
    if plan is not None:
        context["problems"] = plan.problems(submit=submit)
        context["can_save"] = not plan.problems(submit=False)
        context["can_submit"] = not plan.problems(submit=True)
    return render(request, PAGE, context, status=status)
