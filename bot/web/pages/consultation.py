"""`/guidance/consultation`: staff read the draft of the guidance, comment on it, and (by
role) sign it off, answer comments and publish it.

Each form calls one function of `approvals.staff.consultation`, which decides who may do it; the
page shows a form only where it would work. Comments are shown anonymised as the domain
says (`consultation_view`); a refused request changes nothing and the page comes back
with the reason.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from approvals.errors import PressgateError
from approvals.models import Person
from approvals.staff import consultation
from bot.web.csrf import csrf_protect
from bot.web.deps import ViewerDep, flash, now, person, read, render, write
from bot.web.errors import status_of
from bot.web.markdown import render_markdown

router = APIRouter(dependencies=[Depends(csrf_protect)])
PAGE = "pages/consultation.html"
HERE = "/guidance/consultation"
Field = Annotated[str, Form(max_length=consultation.MAX_COMMENT + 100)]
Number = Annotated[int, Form(ge=1, le=2**31 - 1)]
Change = Callable[[Session, Person], str]  # one domain call; what to tell the person


def _page(
    request: Request, who: ViewerDep, *, error: str | None = None, status: int = 200
) -> Response:
    with read(request) as session:
        view = consultation.consultation_view(
            session, viewer=person(session, who), now=now(request)
        )
        figures = consultation.acknowledgements(session)
    context = {
        "view": view,
        "text": render_markdown(view.text, demote=1) if view else "",
        "figures": figures,
        "error": error,
    }
    return render(request, PAGE, context, status=status)


@router.get(HERE, name="consultation")
def consultation_page(request: Request, who: ViewerDep) -> Response:
    return _page(request, who)


def _act(request: Request, who: ViewerDep, change: Change) -> Response:
    """Run one domain call in a unit of work; on refusal, the page again with the reason."""
    try:
        with write(request) as session:
            message = change(session, person(session, who))
    except PressgateError as error:
        return _page(request, who, error=str(error), status=status_of(error))
    flash(request, message)
    return RedirectResponse(HERE, status_code=303)


@router.post(HERE + "/comment", name="consultation_comment")
def add_comment(
    request: Request, who: ViewerDep, consultation_id: Number, body: Field = ""
) -> Response:
    at = now(request)

    def change(session: Session, me: Person) -> str:
        consultation.comment(session, actor=me, consultation_id=consultation_id, body=body, now=at)
        return "Your comment is recorded."

    return _act(request, who, change)


@router.post(HERE + "/sign-off", name="consultation_sign_off")
def sign_off(request: Request, who: ViewerDep, consultation_id: Number) -> Response:
    at = now(request)

    def change(session: Session, me: Person) -> str:
        consultation.sign_off(session, actor=me, consultation_id=consultation_id, now=at)
        return "Signed off for the union."

    return _act(request, who, change)


@router.post(HERE + "/answer", name="consultation_answer")
def answer(request: Request, who: ViewerDep, comment_id: Number, text: Field = "") -> Response:
    at = now(request)

    def change(session: Session, me: Person) -> str:
        consultation.answer(session, actor=me, comment_id=comment_id, text=text, now=at)
        return f"Comment {comment_id} answered."

    return _act(request, who, change)


@router.post(HERE + "/publish", name="consultation_publish")
def publish(request: Request, who: ViewerDep, consultation_id: Number) -> Response:
    at = now(request)

    def change(session: Session, me: Person) -> str:
        version = consultation.publish_consulted(
            session, actor=me, consultation_id=consultation_id, now=at
        )
        return f"Guidance version {version.id} published; staff are asked to read it."

    return _act(request, who, change)
