"""A budget is checked against the month's running totals, which are the ledger's sums:
kept at every billed call, started from the ledger when a month has none, and right when
many calls are recorded at once."""

import threading
from datetime import timedelta

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from approvals.analytics.models import XCall, XSpendMonth
from approvals.analytics.spend import CallMade, month_spent, record_call
from approvals.db import session_scope
from approvals.models import Account
from tests.conftest import NOW
from tests.factories import Org


def _accounts(session: Session) -> list[int]:
    return [a.id for a in session.exec(select(Account).order_by(Account.id)).all() if a.id]


def _ledger_sum(session: Session, account_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(XCall.cost_micros), 0))
    if account_id is not None:
        query = query.where(XCall.account_id == account_id)
    return int(session.exec(query).one())


def _call(session: Session, account_id: int | None, kind: str = "create_post_url") -> None:
    call = CallMade(kind=kind, endpoint="POST /2/tweets", ok=True, account_id=account_id)
    record_call(session, call=call, now=NOW)


def test_the_months_totals_are_the_ledgers_sums(org: Org) -> None:
    session = org.session
    first, second = _accounts(session)[:2]
    for account_id, kind in [
        (first, "create_post"),
        (second, "create_post_url"),
        (None, "read_user"),
    ]:
        _call(session, account_id, kind)
    record_call(
        session, call=CallMade("create_post", "POST /2/tweets", ok=False, account_id=first), now=NOW
    )
    session.commit()
    assert month_spent(session, now=NOW) == _ledger_sum(session) > 0
    for account_id in (first, second):
        assert month_spent(session, now=NOW, account_id=account_id) == _ledger_sum(
            session, account_id
        )
    assert month_spent(session, now=NOW + timedelta(days=40)) == 0, "a new month starts at 0"


def test_a_month_without_totals_starts_from_the_ledger(org: Org) -> None:
    """As after the upgrade that added them: the month's calls so far count."""
    session = org.session
    (account_id, *_) = _accounts(session)
    _call(session, account_id)
    _call(session, account_id)
    session.execute(delete(XSpendMonth))
    session.commit()
    _call(session, account_id)
    session.commit()
    assert month_spent(session, now=NOW) == _ledger_sum(session) == 3 * 200_000
    assert month_spent(session, now=NOW, account_id=account_id) == 3 * 200_000


def test_calls_recorded_at_once_by_many_workers_are_each_counted_once(
    engine: Engine, org: Org
) -> None:
    """The first calls of a month race to start its totals; none is lost or counted twice."""
    accounts = _accounts(org.session)[:2]
    org.session.commit()
    threads, per_thread = 8, 6
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with session_scope(engine) as session:
                    _call(session, accounts[(n + i) % 2])
        except BaseException as error:
            failures.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not failures, failures
    with Session(engine) as session:
        assert (
            month_spent(session, now=NOW) == _ledger_sum(session) == threads * per_thread * 200_000
        )
        for account_id in accounts:
            assert month_spent(session, now=NOW, account_id=account_id) == _ledger_sum(
                session, account_id
            )
