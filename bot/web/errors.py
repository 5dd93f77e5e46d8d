"""One place turns errors into answers: problem documents for the API, pages for people.

Like `bot.cli.common` for the command line: a domain error's message is written for the
person who meets it, so it is shown as it is; the HTTP status follows its family.
"""

from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from approvals.errors import (
    IllegalTransition,
    InvalidInput,
    LinkSpent,
    NotFound,
    PermissionDenied,
    PressgateError,
    StaleRevision,
)
from bot.web.auth import NotInMap, SignInRequired, sign_out
from bot.web.csrf import CsrfFailed
from bot.web.deps import render
from bot.web.problems import http_error, problem


def status_of(error: PressgateError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, LinkSpent):
        return 410  # a review link that expired or was used: it will never work again
    if isinstance(error, IllegalTransition | StaleRevision):
        return 409
    return 409  # another rule refused it: the request was understood, the state forbids it


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    context = {"title": title, "detail": detail, "status": status}
    return render(request, "pages/error.html", context, status=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        if is_api(request):
            return problem(401, "sign in to pressgate first")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(NotInMap)
    async def _not_in_map(request: Request, error: NotInMap) -> Response:
        sign_out(request)
        detail = (
            f"You signed in as {error.email}, but the permission map does not name that "
            "address, so pressgate has nothing for you. Ask the digital strategy lead to add "
            "you, or sign in with your work address."
        )
        if is_api(request):
            return problem(403, detail)
        return error_page(request, 403, "Not in the permission map", detail)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> Response:
        detail = (
            "This form is out of date or came from another site. Reload the page and try again."
        )
        if is_api(request):
            return problem(403, "CSRF token missing or wrong: send the X-CSRF-Token header")
        return error_page(request, 403, "Form expired", detail)

    @app.exception_handler(PressgateError)
    async def _domain(request: Request, error: PressgateError) -> Response:
        status = status_of(error)
        title = (
            "Refused"
            if status in (403, 409, 410)
            else "Not found"
            if status == 404
            else "Bad input"
        )
        if is_api(request):
            return problem(status, str(error))
        return error_page(request, status, title, str(error))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        """A page for people, a problem document for programs."""
        if is_api(request) or error.status_code < 400:
            return await http_error(request, error)
        title = HTTPStatus(error.status_code).phrase
        detail = error.detail if isinstance(error.detail, str) else title
        if error.status_code == 404 and detail == title:
            detail = "There is nothing here, or nothing you may see."
        return error_page(request, error.status_code, title, detail)
