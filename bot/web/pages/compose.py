"""Writing a post in the browser: `/posts/new` and `/posts/{id}/edit`.

One form does everything, with or without JavaScript. Its buttons name an action: `save` and
`submit` store the post through `approvals.compose` (the same services as the CLI, in one
unit of work); `check`, `add_part`, `remove_part:N` and `use_template:NAME` change nothing
and show the form again as it was posted, with the change made and the words checked. A
refusal shows the form again too, with the message next to its field and at the top, so
nothing typed is lost and nothing is stored.

Which accounts are offered comes from the map in force; whether the person may draft there,
and everything else, is decided by the domain when they save.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from approvals import compose
from approvals.analytics.spend import cost_of_parts
from approvals.config import Action
from approvals.content import post_templates
from approvals.content.policy import check_config
from approvals.errors import InvalidInput, NotFound, PermissionDenied, PressgateError
from approvals.map_store import current_map, get_account
from approvals.models import PostState
from approvals.posts import (
    MAX_ALT_TEXT,
    MAX_MEDIA_PER_PART,
    MAX_PARTS,
    account_of,
    current_revision,
    revision_parts,
)
from approvals.schedule import parse_local_time
from approvals.workflow import AFTER_EDIT
from bot.web.auth import Viewer
from bot.web.compose_form import (
    ComposeForm,
    FieldRefused,
    ImageField,
    PartField,
    check_images,
    local_input,
    parse,
    part_inputs,
    read_form,
)
from bot.web.csrf import csrf_protect
from bot.web.deps import ViewerDep, flash, now, person, read, render, settings_of, write
from bot.web.errors import status_of

# The form is parsed (with room for images) before the CSRF check reads its token.
# A form with its images (those not saved yet travel back and forth in the page as base64):
# room for a thread's worth of pictures, far below what would hurt the server.
MAX_BODY_BYTES = 64_000_000

router = APIRouter(dependencies=[Depends(read_form), Depends(csrf_protect)])
FormDep = Annotated[FormData, Depends(read_form)]
PAGE = "pages/compose.html"
# States an edit sends back to review by itself (workflow.AFTER_EDIT): no separate Submit.
IN_REVIEW = frozenset(s for s, after in AFTER_EDIT.items() if after == PostState.SUBMITTED)


class TimeRefused(Exception):
    """The publishing time was refused: its message goes next to the time field."""

    def __init__(self, error: InvalidInput) -> None:
        super().__init__(str(error))
        self.error = error


@router.get("/posts/new", name="compose_new")
def new_post(request: Request, who: ViewerDep) -> Response:
    return _page(request, who, ComposeForm(), post_id=None)


@router.post("/posts/new")
def new_post_posted(request: Request, who: ViewerDep, posted: FormDep) -> Response:
    form = parse(posted)
    if form.action in ("save", "submit"):
        return _save(request, who, form, post_id=None)
    return _rework(request, who, form, post_id=None)


@router.get("/posts/{post_id}/edit", name="compose_edit")
def edit_post(request: Request, who: ViewerDep, post_id: int) -> Response:
    with read(request) as session:
        post = compose.open_for_edit(session, actor=person(session, who), post_id=post_id)
        revision = current_revision(session, post)
        shown = local_input(post.scheduled_at, post.timezone)
        form = ComposeForm(
            at=shown,
            at_was=shown,
            expected_hash=revision.content_hash,
            parts=[
                PartField(
                    text=part.text,
                    images=[
                        ImageField(alt=m.get("alt_text") or "", sha256=str(m["sha256"]))
                        for m in part.media
                    ],
                )
                for part in revision_parts(session, revision)
            ],
        )
    return _page(request, who, form, post_id=post_id)


@router.post("/posts/{post_id}/edit")
def edit_post_posted(request: Request, who: ViewerDep, post_id: int, posted: FormDep) -> Response:
    form = parse(posted)
    if form.action in ("save", "submit"):
        return _save(request, who, form, post_id=post_id)
    return _rework(request, who, form, post_id=post_id)


def _rework(request: Request, who: Viewer, form: ComposeForm, *, post_id: int | None) -> Response:
    """The actions that only change the form: nothing is stored."""
    status = 200
    if form.action == "add_part":
        if len(form.parts) >= MAX_PARTS:
            form.errors["parts"] = f"a thread may have at most {MAX_PARTS} parts"
            status = 422
        else:
            form.parts.append(PartField())
    elif form.action == "remove_part":
        _remove_part(form)
    elif form.action == "use_template":
        status = _use_template(request, form)
    return _page(request, who, form, post_id=post_id, status=status)


def _remove_part(form: ComposeForm) -> None:
    """`remove_part:N` names the part's place in the form as it was rendered."""
    try:
        position = int(form.argument)
    except ValueError:
        return
    if len(form.parts) > 1 and 0 <= position < len(form.parts):
        del form.parts[position]


def _use_template(request: Request, form: ComposeForm) -> int:
    """The template's parts replace the words; parts that hold images keep them (with the
    template's words where it has a part for them), so no chosen image is lost."""
    name = form.argument
    try:
        with read(request) as session:
            spec = post_templates.find_template(session, name, settings_of(request).templates_dir)
        texts = post_templates.render(spec, form.template_values.get(name, {}))
    except PressgateError as error:
        form.errors[f"tpl-{name}"] = str(error)
        return status_of(error)
    parts = [PartField(text=text) for text in texts]
    for position, old in enumerate(form.parts):
        if not old.images:
            continue
        if position < len(parts):
            parts[position].images = old.images
        else:
            parts.append(PartField(images=old.images))
    form.parts = parts
    return 200


def _save(request: Request, who: Viewer, form: ComposeForm, *, post_id: int | None) -> Response:
    if any(part.errors for part in form.parts):  # an upload too large or garbled: nothing to try
        return _page(request, who, form, post_id=post_id, status=422)
    when = now(request)
    try:
        check_images(form)  # slow: before the write transaction
        with write(request) as session:
            saved = _store(session, who, form, post_id, when)
            done = _done_message(saved)
    except TimeRefused as refused:
        form.errors["at"] = str(refused)
        return _page(request, who, form, post_id=post_id, status=status_of(refused.error))
    except FieldRefused as refused:
        form.parts[refused.part].errors[refused.key] = str(refused)
        return _page(request, who, form, post_id=post_id, status=status_of(refused.error))
    except PressgateError as error:
        on_account = post_id is None and isinstance(error, NotFound | PermissionDenied)
        form.errors["account" if on_account else "form"] = str(error)
        return _page(request, who, form, post_id=post_id, status=status_of(error))
    assert saved.post.id is not None
    flash(request, done)
    return RedirectResponse(f"/posts/{saved.post.id}", status_code=303)


def _store(
    session: Session, who: Viewer, form: ComposeForm, post_id: int | None, when: datetime
) -> compose.Saved:
    me = person(session, who)
    submit = form.action == "submit"
    if post_id is None:
        account = get_account(session, form.account)
        scheduled = _time(form.at, account.timezone, when)
        return compose.save_new(
            session,
            actor=me,
            account_handle=account.handle,
            parts=part_inputs(session, form, now=when),
            scheduled_at=scheduled,
            submit=submit,
            now=when,
        )
    post = compose.open_for_edit(session, actor=me, post_id=post_id)
    if not form.expected_hash:
        raise InvalidInput("this form does not say which revision you opened; reload it")
    reschedule = None
    if form.at != form.at_was:
        reschedule = compose.Reschedule(_time(form.at, post.timezone, when))
    return compose.save_changes(
        session,
        actor=me,
        post_id=post_id,
        parts=part_inputs(session, form, now=when),
        expected_hash=form.expected_hash,
        reschedule=reschedule,
        submit=submit,
        now=when,
    )


def _time(text: str, zone: str, when: datetime) -> datetime | None:
    if not text:
        return None
    try:
        return parse_local_time(text, zone=zone, now=when)
    except InvalidInput as error:
        raise TimeRefused(error) from None


def _done_message(saved: compose.Saved) -> str:
    post = saved.post
    if not saved.changed:
        return f"Post {post.id}: nothing had changed, so nothing was saved."
    if saved.submitted:
        return f"Post {post.id} submitted for approval."
    if saved.edited and post.revision_no > 1:
        said = f"Post {post.id} changed (revision {post.revision_no})"
        if post.state == PostState.SUBMITTED:
            return said + ": it is back in review, and earlier approvals no longer count."
        if post.state_reason and post.state == PostState.DRAFT:
            return f"{said}; it is a draft again: {post.state_reason}"
        return said + "."
    if saved.rescheduled and not saved.edited:
        return f"Post {post.id} rescheduled."
    return f"Post {post.id} saved as a draft."


def _page(
    request: Request,
    who: Viewer,
    form: ComposeForm,
    *,
    post_id: int | None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "form": form,
        "max_parts": MAX_PARTS,
        "max_media": MAX_MEDIA_PER_PART,
        "max_alt": MAX_ALT_TEXT,
        "empty_part": PartField(),  # the part JavaScript copies when it adds one
    }
    with read(request) as session:
        pmap = current_map(session)
        if post_id is None:
            accounts = [
                a for a in pmap.corporate_accounts() if pmap.can(who.email, Action.DRAFT, a.handle)
            ]
            chosen = next((a for a in accounts if a.key == _key(form.account)), None)
            chosen = chosen or (accounts[0] if accounts else None)
            context.update(
                post=None,
                accounts=accounts,
                account=chosen,
                zone=chosen.timezone if chosen else "Europe/London",
            )
            if not accounts and status == 200:
                status = 403
        else:
            post = compose.find_post(session, post_id)
            handle = account_of(session, post).handle
            context.update(
                post=post,
                accounts=[],
                account=pmap.account(handle),
                zone=post.timezone,
                in_review=post.state in IN_REVIEW,
            )
        context.update(_templates(session, request))
        context["report"] = check_config(form.to_check(), pmap.config)
        context["cost"] = cost_of_parts(
            [p.text for p in form.parts], sum(len(p.kept) for p in form.parts), pmap.config.x_prices
        )
    context["problems"] = _problems(form)
    return render(request, PAGE, context, status=status)


def _key(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def _templates(session: Session, request: Request) -> dict[str, Any]:
    """The templates to offer; a broken template file hides the picker, not the page."""
    try:
        found = post_templates.list_templates(session, settings_of(request).templates_dir)
    except PressgateError as error:
        return {"templates": [], "templates_unavailable": str(error)}
    return {"templates": found, "templates_unavailable": None}


def _problems(form: ComposeForm) -> list[tuple[str, str | None]]:
    """Every message of a refused form, for the summary at the top: each links to the field
    it is about (shown there too), or stands alone when it is about the whole post."""
    anchors = {"form": None, "at": "#at", "account": "#account", "parts": "#add-part"}
    found: list[tuple[str, str | None]] = []
    for key, message in form.errors.items():
        found.append((message, anchors.get(key, f"#{key}")))
    for n, part in enumerate(form.parts):
        for key, message in part.errors.items():
            found.append((message, f"#part-{n}-{key}"))
    return found
