"""Who may see a post, and which actions a person may take on it now.

Pages show only the buttons this module allows, so nobody is offered what the map or the
post's state forbids; the services (`posts`, `review`, `takedown`) still decide every
request on their own, so a forged form changes nothing. The rules here restate theirs, and
a test holds both to the same answer for every person, action and state.

Seeing a post needs a right (any action) on its account in the map in force. Anyone else
is told the post was not found, exactly as for a post that does not exist, so an id cannot
be probed.
"""

from sqlmodel import Session, select

from approvals.config import Action
from approvals.db import MAX_ID
from approvals.errors import NotFound
from approvals.map_store import current_map
from approvals.models import Approval, Person, Post, PostState
from approvals.permissions import PermissionMap
from approvals.posts import account_of, authors_of, current_revision
from approvals.workflow import EDITABLE, REVIEWABLE, WITHDRAWABLE

EDIT, SUBMIT, WITHDRAW, SCHEDULE = "edit", "submit", "withdraw", "schedule"
APPROVE, REJECT, TAKEDOWN = "approve", "reject", "takedown"
ALL_ACTIONS = frozenset({EDIT, SUBMIT, WITHDRAW, SCHEDULE, APPROVE, REJECT, TAKEDOWN})


def not_found(post_id: int) -> NotFound:
    """The one answer for a post that is missing and for one the person may not see."""
    return NotFound(f"post {post_id} was not found")


def visible_to(session: Session, post: Post, email: str) -> bool:
    """Anyone holding any right on the post's account may see it."""
    handle = account_of(session, post).handle
    pmap = current_map(session)
    return any(pmap.can(email, action, handle) for action in Action)


def may_review(session: Session, post: Post, person: Person) -> bool:
    """The review page is for the account's approvers, and read-only for the post's authors."""
    if person.id in authors_of(session, post):
        return True
    return current_map(session).can(person.email, Action.APPROVE, account_of(session, post).handle)


def visible_post(session: Session, post_id: int, email: str) -> Post:
    """The post, if `email` may see it; otherwise `not_found` (never "forbidden")."""
    post = session.get(Post, post_id) if 1 <= post_id <= MAX_ID else None
    if post is None or not visible_to(session, post, email):
        raise not_found(post_id)
    return post


def allowed_actions(session: Session, post: Post, person: Person) -> frozenset[str]:
    """The actions `person` may take on `post` now, by the map in force and the post's state.

    Input can still be refused (a time in the past, blocking policy findings, a stale
    revision): that is for the service to say when the form comes in.
    """
    pmap = current_map(session)
    handle = account_of(session, post).handle
    state = post.state
    allowed: set[str] = set()
    if pmap.can(person.email, Action.DRAFT, handle) and state in EDITABLE:
        allowed |= {EDIT, SCHEDULE}
    if pmap.can(person.email, Action.SUBMIT, handle) and state == PostState.DRAFT:
        allowed.add(SUBMIT)
    if state in WITHDRAWABLE and _may_withdraw(pmap, post, person, handle):
        allowed.add(WITHDRAW)
    if _may_review(session, pmap, post, person, handle):
        allowed.add(REJECT)
        if state == PostState.SUBMITTED and not _decided_current(session, post, person):
            allowed.add(APPROVE)
    if pmap.can(person.email, Action.TAKEDOWN, handle) and state == PostState.PUBLISHED:
        allowed.add(TAKEDOWN)
    return frozenset(allowed)


def _may_withdraw(pmap: PermissionMap, post: Post, person: Person, handle: str) -> bool:
    is_author = person.id == post.author_id and pmap.can(person.email, Action.DRAFT, handle)
    return is_author or pmap.can(person.email, Action.MANAGE, handle)


def _may_review(
    session: Session, pmap: PermissionMap, post: Post, person: Person, handle: str
) -> bool:
    return (
        post.state in REVIEWABLE
        and person.id not in authors_of(session, post)
        and pmap.can(person.email, Action.APPROVE, handle)
    )


def _decided_current(session: Session, post: Post, person: Person) -> bool:
    revision = current_revision(session, post)
    query = select(Approval.id).where(
        Approval.revision_id == revision.id, Approval.person_id == person.id
    )
    return session.exec(query).first() is not None
