"""A takedown as the CLI and the duty page make it: the publisher built from the settings
(X through the account's stored tokens, or the sandbox), then the domain's `takedown`."""

from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.clock import Clock
from approvals.delivery.publisher import XError
from approvals.delivery.takedown import takedown
from approvals.errors import NotFound, Refused
from approvals.models import Account, Person, Post
from bot.publishers import publisher_factory
from bot.settings import Settings
from bot.x_spend import within


def take_down(
    session: Session,
    *,
    settings: Settings,
    engine: Engine,
    clock: Clock,
    actor: Person,
    post_id: int,
    reason: str,
) -> Post:
    """Delete a published post (every part) from X and record it; `takedown` decides who may.

    Without X app credentials (and no sandbox asked for) or with an unusable secret key it
    is refused before anything is read: the tokens could not be used.
    """
    publishers = publisher_factory(settings, engine, clock, via="takedown")
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"post {post_id} does not exist")
    account = session.get(Account, post.account_id)
    assert account is not None
    try:
        publisher = publishers(session, account)
    except XError as error:
        raise Refused(str(error)) from None
    with within(session, post_id):  # the calls to X go in the ledger in this transaction
        return takedown(
            session,
            actor=actor,
            post_id=post_id,
            publisher=publisher,
            now=clock.now(),
            reason=reason,
        )
