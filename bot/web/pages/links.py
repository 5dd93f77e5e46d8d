"""`/a/{token}`: the signed review link in an approver's Slack DM.

GET shows the review page as the link's approver would see it and changes nothing (Slack's
unfurler and mail scanners fetch links). POST, with the page's CSRF token, approves or
rejects through the same services as every other door (`approvals.signoff.review_links.decide`,
audited with `via: link`) and uses the link up.

The link stands for its approver. Where sign-in is set up (OIDC or an SSO proxy) the
browser must also be signed in as that approver; and wherever someone is signed in, it must
be the approver: a link forwarded to, or opened by, another approver is refused.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from approvals.db import session_scope
from approvals.errors import InvalidInput, LinkSpent, NotFound, PermissionDenied, PressgateError
from approvals.models import Decision, Person, Post
from approvals.post_detail import review_detail
from approvals.posts import current_revision
from approvals.signoff import review_links
from approvals.signoff.review_links import ReviewLink, approver_of, why_not
from bot.link_signing import link_signer
from bot.web import oidc
from bot.web.auth import SignInRequired, viewer
from bot.web.csrf import csrf_protect
from bot.web.deps import flash, now, read, render, settings_of
from bot.web.errors import status_of

router = APIRouter(dependencies=[Depends(csrf_protect)])
FormText = Annotated[str, Form(max_length=5000)]


@router.get("/a/{token}", name="review_link")
def open_link(request: Request, token: str) -> Response:
    return show_link(request, token)


def show_link(
    request: Request, token: str, *, refusal: str | None = None, status: int = 200
) -> Response:
    with read(request) as session:
        link, approver = _link_and_approver(request, session, token)
        detail = review_detail(session, post_id=link.post_id, viewer=approver)
        problem = why_not(session, link)
    context = {
        "detail": detail,
        "view": detail.view,
        "refusal": refusal,
        "back": "link",
        "link_problem": problem,
        "link_action": f"/a/{token}",
        "link_expires": link.expires_at,
    }
    return render(request, "pages/review_link.html", context, status=status)


@router.post("/a/{token}")
def decide_with_link(
    request: Request, token: str, decision: FormText = "", reason: FormText = ""
) -> Response:
    with read(request) as session:  # a link that cannot be shown cannot decide either
        link, approver = _link_and_approver(request, session, token)
    try:
        with session_scope(request.app.state.engine, via=review_links.VIA) as session:
            quorum = review_links.decide(
                session,
                link=link,
                actor=approver,
                decision=_decision(decision),
                now=now(request),
                reason=reason.strip(),
            )
            post = session.get(Post, link.post_id)
            assert post is not None
            number = current_revision(session, post).number
    except (NotFound, LinkSpent):
        raise  # the error page: there is nothing left to show for this link
    except PressgateError as error:  # refused: the unit rolled back, the link is unused
        return show_link(request, token, refusal=str(error), status=status_of(error))
    if quorum is None:
        flash(request, f"Rejected revision {number}: the author has your reason.")
    else:
        counted, required = len(quorum.approvers), quorum.required
        flash(request, f"Approved revision {number}: {counted} of {required} approvals count.")
    return RedirectResponse(f"/a/{token}", status_code=303)


def _link_and_approver(request: Request, session: Session, token: str) -> tuple[ReviewLink, Person]:
    """The link and its approver, if this browser may use it (see the module's docstring)."""
    settings = settings_of(request)
    link = link_signer(settings).read(token, now=now(request))
    approver = approver_of(session, link)
    who = viewer(request)  # NotInMap: signed in as someone the map lacks (the app's 403 page)
    if who is None:
        if oidc.configured(settings) or settings.proxy_auth_header:
            raise SignInRequired()  # to the sign-in page, and back to this link after it
    elif who.person_id != approver.id:
        raise PermissionDenied(
            f"this review link was made for {approver.email}, and you are signed in as "
            f"{who.email}: only {approver.email} may use it"
        )
    return link, approver


def _decision(value: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        raise InvalidInput("choose approve or reject") from None
