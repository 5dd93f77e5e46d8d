"""Demo data for `pressgate demo`: a handful of posts in each interesting state."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from approvals import posts
from approvals.map_store import get_person
from approvals.models import Post
from approvals.posts import PartInput
from approvals.signoff import review


def seed(session: Session, *, now: datetime) -> int:
    """Create the demo posts once; returns how many were made (0 if the database has posts)."""
    if session.exec(select(Post).limit(1)).first() is not None:
        return 0
    alice = get_person(session, "alice@example.org")
    pat = get_person(session, "pat@example.org")
    bob = get_person(session, "bob@example.org")
    hana = get_person(session, "hana@example.org")
    tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)

    posts.create_draft(
        session,
        actor=alice,
        account_handle="@DeptNews",
        parts=[PartInput("Draft: our annual report is out next week. Details to follow.")],
        now=now,
    )
    waiting = posts.create_draft(
        session,
        actor=alice,
        account_handle="@DeptNews",
        parts=[
            PartInput("New guidance for small employers is now live: https://www.gov.uk/guidance"),
            PartInput("It covers payroll deadlines, holiday pay and what to do if you are late."),
        ],
        now=now,
        scheduled_at=tomorrow,
    )
    assert waiting.id is not None
    posts.submit(session, actor=alice, post_id=waiting.id, now=now)

    queued = posts.create_draft(
        session,
        actor=pat,
        account_handle="@DeptHelp",
        parts=[
            PartInput("Reminder: the filing deadline is 31 January. File early to avoid queues.")
        ],
        now=now,
        scheduled_at=tomorrow + timedelta(hours=2),
    )
    assert queued.id is not None
    posts.submit(session, actor=pat, post_id=queued.id, now=now)
    revision = posts.current_revision(session, queued).content_hash
    review.approve(session, actor=hana, post_id=queued.id, revision_hash=revision, now=now)

    rejected = posts.create_draft(
        session,
        actor=pat,
        account_handle="@DeptNews",
        parts=[PartInput("We're at the conference centre all day, come and say hi!")],
        now=now,
    )
    assert rejected.id is not None
    posts.submit(session, actor=pat, post_id=rejected.id, now=now)
    review.reject(
        session,
        actor=bob,
        post_id=rejected.id,
        revision_hash=posts.current_revision(session, rejected).content_hash,
        reason="Gives away where staff are; say what the event is about instead.",
        now=now,
    )
    return 4
