"""What is about no one change (a budget crossed, the weekly digest) reaches people through
the outbox like every other notice: the worker's notifier writes it there."""

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.messaging.notify import OutboxNotifier
from approvals.models import Notice
from tests.factories import Org


def test_told_people_get_one_escaped_notice_each_in_the_outbox(engine: Engine, org: Org) -> None:
    org.session.commit()
    OutboxNotifier(engine, org.clock).tell(
        people=["dana@example.org", "bob@example.org"],
        topic="budget_over",
        message="@DeptNews spent $12.40 of $10.00 <this month> & more",
    )
    with Session(engine) as session:
        rows = session.exec(select(Notice).order_by(col(Notice.id))).all()
    assert [(r.queue, r.state, r.due_at) for r in rows] == [
        ("budget_over:dana@example.org", "pending", org.clock.now()),
        ("budget_over:bob@example.org", "pending", org.clock.now()),
    ]
    assert rows[0].text == "@DeptNews spent $12.40 of $10.00 &lt;this month&gt; &amp; more"


def test_without_an_engine_the_notifier_writes_nothing(engine: Engine, org: Org) -> None:
    OutboxNotifier().tell(people=["dana@example.org"], topic="digest", message="week 48")
    with Session(engine) as session:
        assert session.exec(select(Notice)).all() == []
