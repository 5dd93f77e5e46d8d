"""The approval request's Block Kit: what the approver signs is all there, escaped, within
Slack's limits, and cut with a marker when it does not fit; an update keeps the request and
says what happened, taking the buttons away when they can decide nothing more."""

from datetime import UTC, datetime
from typing import Any

from approvals.messaging.notice_blocks import LINK, request_blocks, updated_blocks
from approvals.messaging.slack_text import CUT
from approvals.summary import PartView, PostView

HASH = "ab" * 32
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def view(*parts: PartView, findings: list[dict[str, Any]] | None = None) -> PostView:
    return PostView(
        id=7,
        account="@DeptNews",
        author="alice@example.org",
        state="submitted",
        state_reason=None,
        revision=2,
        revision_hash=HASH,
        scheduled_at=AT,
        scheduled_local="2026-12-01 09:30 GMT",
        timezone="Europe/London",
        approvals=["bob@example.org"],
        approvals_required=2,
        approvals_lapsed=[],
        parts=list(parts),
        sandbox=False,
        strays=[],
        findings=findings or [],
        publish_cost="contains a link: $0.20",
        created_at=AT,
        updated_at=AT,
    )


def texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(b["text"]["text"]) for b in blocks if b.get("type") in ("section", "header")
    )


def test_a_request_shows_every_part_alt_texts_time_author_counts_cost_and_findings() -> None:
    first = PartView(position=0, text="Applications open\non Monday.", media=[])
    second = PartView(
        position=1,
        text="See the form.",
        media=[{"sha256": "0" * 64, "alt_text": "A form <b>"}, {"sha256": "1" * 64}],
    )
    finding = {"explanation": "Looks like a postcode.", "excerpt": "SW1A 2AA"}
    blocks = request_blocks(
        view(first, second, findings=[finding]), author="Alice", personal_link=True
    )
    shown = texts(blocks)
    assert "&gt; Applications open\n&gt; on Monday." in shown
    assert "*Part 2 of 2*" in shown and "_Image 1 alt text:_ A form &lt;b&gt;" in shown
    assert "_Image 2 alt text:_ _none given_" in shown
    assert "2026-12-01 09:30 GMT" in shown and "by Alice" in shown and "1 of 2 count" in shown
    assert "Looks like a postcode. “SW1A 2AA”" in shown
    assert "*Cost at X:* contains a link: $0.20" in shown, "what publishing it will cost"
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    approve, reject, review = actions["elements"]
    assert approve["value"] == reject["value"] == f"7:{HASH}"
    assert review["url"] == LINK, "a DM's Review is the approver's own link, added when sent"


def test_a_part_too_long_for_a_section_is_cut_with_the_marker() -> None:
    alt = "An image of a very long table. " * 40  # 1,240 characters
    part = PartView(
        position=0,
        text="Results are out.",
        media=[{"sha256": str(n) * 64, "alt_text": alt} for n in range(4)],
    )
    blocks = request_blocks(view(part), author="Alice", personal_link=False)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert max(len(s) for s in sections) == 3000
    assert any(s.endswith(CUT) for s in sections)


def test_an_update_replaces_the_status_and_closing_takes_the_buttons_away() -> None:
    blocks = request_blocks(
        view(PartView(position=0, text="Hi.", media=[])), author="A", personal_link=False
    )
    once = updated_blocks(blocks, "bob approved.", closes=False)
    twice = updated_blocks(once, "Approved and queued.", closes=True)
    assert [b["type"] for b in once][-2:] == ["actions", "context"]
    assert [b for b in twice if b["type"] == "actions"] == []
    (status,) = [b for b in twice if b["type"] == "context"]
    assert status["elements"][0]["text"] == "Approved and queued."
    assert blocks[-1]["type"] == "actions", "the original is left as it was"
