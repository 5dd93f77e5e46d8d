"""Taking a published post down from X: a duty officer's decision, recorded for good."""

from datetime import datetime

from sqlmodel import Session

from approvals.config import Action
from approvals.content.reasons import check_reason
from approvals.delivery.publisher import XError, XPublisher
from approvals.errors import IllegalTransition, Refused
from approvals.map_store import current_map
from approvals.models import Person, Post, PostState
from approvals.posts import account_of, current_revision, revision_parts
from approvals.workflow import lock_post, move


def takedown(
    session: Session,
    *,
    actor: Person,
    post_id: int,
    publisher: XPublisher,
    now: datetime,
    reason: str,
) -> Post:
    """Delete every part of a published post from X (last part first), then record it.

    The row lock is held across the calls to X so nobody acts on the post meanwhile; a
    takedown is rare and takes a second. If X fails part-way, the post stays `published`
    and the error says which parts are already gone; running it again finishes the job.
    """
    if not reason.strip():
        raise Refused("a takedown needs a reason for the record")
    reason = check_reason(reason, what="the reason for the takedown")
    post = lock_post(session, post_id)
    account = account_of(session, post)
    current_map(session).require(actor.email, Action.TAKEDOWN, account.handle)
    if post.state != PostState.PUBLISHED:
        raise IllegalTransition(
            f"post {post_id} is {post.state.value}; only published posts come down"
        )
    parts = revision_parts(session, current_revision(session, post))
    deleted: list[str] = []
    for part in reversed(parts):
        if part.x_post_id is None:
            continue
        try:
            publisher.delete_post(part.x_post_id)
        except XError as error:
            raise Refused(
                f"X did not delete {part.x_post_id} ({error}); already deleted: "
                f"{', '.join(deleted) or 'none'}. Run the takedown again."
            ) from None
        deleted.append(part.x_post_id)
    move(
        session,
        post,
        PostState.TAKEN_DOWN,
        actor=actor.email,
        now=now,
        reason=reason,
        details={"deleted": deleted, "sandbox": post.sandbox},
    )
    return post
