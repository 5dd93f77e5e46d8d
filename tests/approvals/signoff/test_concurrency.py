"""Decisions taken at the same moment by different people, in different connections."""

import threading

from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.db import is_postgres, session_scope
from approvals.map_store import get_person
from approvals.models import Post, PostState
from approvals.signoff import review
from tests.conftest import NOW
from tests.factories import Org


def _approve_together(engine: Engine, post_id: int, revision_hash: str, emails: list[str]) -> None:
    barrier = threading.Barrier(len(emails), timeout=30)
    errors: list[BaseException] = []

    def approve(email: str) -> None:
        try:
            if not is_postgres(engine):
                barrier.wait()  # SQLite's first statement takes the write lock already
            with session_scope(engine) as session:
                person = get_person(session, email)
                if is_postgres(engine):
                    barrier.wait()  # both transactions open, neither has locked the post
                review.approve(
                    session, actor=person, post_id=post_id, revision_hash=revision_hash, now=NOW
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_simultaneous_approvals_reach_quorum(engine: Engine, org: Org) -> None:
    """Without the post's row lock each approver would see only their own approval and the
    post would stay `submitted` with two approvals."""
    for _ in range(5):
        post = org.submitted()
        revision_hash = org.current_hash(post)
        org.session.commit()
        assert post.id is not None
        _approve_together(engine, post.id, revision_hash, ["bob@example.org", "carol@example.org"])
        with Session(engine) as session:
            stored = session.get(Post, post.id)
            assert stored is not None and stored.state == PostState.APPROVED
