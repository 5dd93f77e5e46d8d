"""Reading the audit log: who may, and exports read in batches that make one whole stretch."""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.db import session_scope
from approvals.records import audit_search
from approvals.records.audit_search import AuditFilters
from tests.factories import Org


def test_the_lead_may_read_the_log_and_an_officer_may_not(org: Org) -> None:
    assert audit_search.may_read(org.session, org.person("dana@example.org"))
    assert not audit_search.may_read(org.session, org.person("alice@example.org"))
    assert not audit_search.may_read(org.session, org.person("bob@example.org"))


def test_an_export_in_small_batches_has_every_entry_once_in_order(org: Org, engine: Engine) -> None:
    for n in range(6):
        org.draft(f"Post {n}")
    org.session.commit()
    upto = audit_search.export_upto(org.session, reader=org.person("dana@example.org"))
    org.draft("Written while the export runs")
    org.session.commit()
    opened: list[int] = []

    @contextmanager
    def reading() -> Iterator[Session]:
        opened.append(1)
        with session_scope(engine, read_only=True) as session:
            yield session

    chunks = list(audit_search.export_lines(reading, filters=AuditFilters(), upto=upto, batch=2))
    assert len(chunks) == 4 and len(opened) == 4, "one short read per batch, one chunk each"
    lines = "".join(chunks).splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, 8))
    drafts = audit_search.export_lines(
        reading, filters=AuditFilters(action="post."), upto=upto, batch=2
    )
    actions = [json.loads(line)["action"] for line in "".join(drafts).splitlines()]
    assert actions == ["post.draft"] * 6
