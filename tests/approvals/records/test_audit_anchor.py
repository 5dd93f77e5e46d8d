"""Anchors: the head taken as it stands, written to every sink whatever one of them does,
and read back strictly."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from approvals.errors import InvalidInput
from approvals.records import audit
from approvals.records.audit_anchor import Anchor, publish_anchor, read_anchors, take_anchor
from tests.conftest import NOW
from tests.factories import AUDIT_KEYS


class RecordingSink:
    def __init__(self, name: str) -> None:
        self.name = name
        self.written: list[Anchor] = []

    def write(self, anchor: Anchor) -> None:
        self.written.append(anchor)


class FullDisk:
    name = "full-disk"

    def write(self, anchor: Anchor) -> None:
        raise OSError(28, "No space left on device")


def test_an_anchor_is_the_head_with_its_key_id_and_the_time_taken(session: Session) -> None:
    for n in range(3):
        audit.record(session, actor="a", action="x", subject=f"s{n}", at=NOW)
    session.commit()
    later = NOW + timedelta(hours=1)
    anchor = take_anchor(session, now=later)
    head = audit.read_head(session)
    assert head is not None
    assert anchor == Anchor(seq=3, hash=head.hash, at=later, key_id=AUDIT_KEYS.current.key_id)


def test_an_empty_log_anchors_its_genesis(session: Session) -> None:
    assert take_anchor(session, now=NOW) == Anchor(0, audit.GENESIS, NOW, None)


def test_every_sink_gets_the_anchor_even_after_one_fails() -> None:
    """The seam Slack will use: a list of sinks, each written to whatever the others do."""
    first, last = RecordingSink("file"), RecordingSink("slack")
    anchor = Anchor(seq=7, hash="ab" * 32, at=NOW, key_id="k")

    failures = publish_anchor(anchor, [first, FullDisk(), last])

    assert first.written == [anchor] and last.written == [anchor]
    assert failures == ["full-disk: the anchor could not be written (No space left on device)"]


def test_an_anchor_line_round_trips() -> None:
    anchor = Anchor(seq=7, hash="ab" * 32, at=NOW, key_id="k")
    assert read_anchors(["", anchor.to_json(), "  "], source="f") == [("f:2", anchor)]


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        '{"seq": 1, "hash": "h", "at": "2026-11-24T12:00:00+00:00"}',
        '{"seq": -1, "hash": "h", "at": "2026-11-24T12:00:00+00:00", "key_id": null}',
        '{"seq": true, "hash": "h", "at": "2026-11-24T12:00:00+00:00", "key_id": null}',
        '{"seq": 1, "hash": 5, "at": "2026-11-24T12:00:00+00:00", "key_id": null}',
        '{"seq": 1, "hash": "h", "at": "yesterday", "key_id": null}',
        '{"seq": 1, "hash": "h", "at": "2026-11-24T12:00:00+00:00", "key_id": null, "x": 1}',
    ],
)
def test_a_line_that_is_not_an_anchor_is_named_by_file_and_line(line: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        read_anchors(["", line], source="anchors.jsonl")
    assert str(bad.value) == (
        "anchors.jsonl:2: not an anchor (a JSON object with seq, hash, at, key_id)"
    )
