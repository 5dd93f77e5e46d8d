"""The Block Kit of an approval request, and of the same message after something happened.

A request shows what the approver signs: every part as it will read, each image's alt
text, when it goes out (local time), who wrote it, approvals counted and required, and the
policy's warnings; then Approve and Reject buttons carrying `post_id:revision_hash` (a click
approves those words only) and a Review button. Everything typed by people is escaped, and
cut to Block Kit's limits with a visible marker (`approvals.messaging.slack_text`).

Addresses are not known here (the base URL is a setting): `BASE` stands for it and `LINK`
for an approver's signed review link, and the sender puts the real ones in.
"""

import copy
from typing import Any

from approvals.messaging.slack_text import (
    BUTTON_TEXT,
    CONTEXT_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS,
    SECTION_TEXT,
    cut,
    escape,
)
from approvals.summary import PostView

BASE = "@@PRESSGATE_BASE_URL@@"
LINK = "@@PRESSGATE_REVIEW_LINK@@"
DECIDE_BLOCK = "decide"
STATUS_BLOCK = "status"
# The ids interactions (bot/slack/interactions.py) answer to.
APPROVE_ACTION = "pressgate_approve"
REJECT_ACTION = "pressgate_reject"
REVIEW_ACTION = "pressgate_review"
RESERVED_BLOCKS = 5  # header, summary, findings, buttons, status: the rest is for parts


def review_page(post_id: int) -> str:
    return f"{BASE}/posts/{post_id}/review"


def request_blocks(view: PostView, *, author: str, personal_link: bool) -> list[dict[str, Any]]:
    """The request message for one revision; `personal_link`: Review opens the approver's
    signed link (a DM) rather than the review page."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": cut(f"Approval request: post {view.id} on {view.account}", HEADER_TEXT),
            },
        },
        _section(
            f"*Revision {view.revision}* by {escape(author)}\n"
            f"*Goes out:* {escape(view.scheduled_local)}\n"
            f"*Approvals:* {len(view.approvals)} of {view.approvals_required} count\n"
            f"*Cost at X:* {escape(view.publish_cost)}"
        ),
    ]
    room = MAX_BLOCKS - RESERVED_BLOCKS
    for part in view.parts[:room]:
        blocks.append(_section(_part_text(view, part.position, part.text, part.media)))
    if len(view.parts) > room:
        blocks.append(_section(f"… [cut: {len(view.parts) - room} more parts on the review page]"))
    if view.findings:
        lines = [
            f"• {escape(str(f['explanation']))} “{escape(str(f['excerpt']))}”"
            for f in view.findings
        ]
        blocks.append(_section("*Policy findings:*\n" + "\n".join(lines)))
    value = f"{view.id}:{view.revision_hash}"
    blocks.append(
        {
            "type": "actions",
            "block_id": DECIDE_BLOCK,
            "elements": [
                _button("Approve", APPROVE_ACTION, value=value, style="primary"),
                _button("Reject", REJECT_ACTION, value=value, style="danger"),
                _button(
                    "Review", REVIEW_ACTION, url=LINK if personal_link else review_page(view.id)
                ),
            ],
        }
    )
    return blocks


def request_text(view: PostView) -> str:
    """The fallback text: what a notification shows."""
    first = view.parts[0].text if view.parts else ""
    return cut(
        f"Approval request: post {view.id} on {view.account} (revision {view.revision}): "
        + escape(first),
        300,
        "…",
    )


def updated_blocks(
    original: list[dict[str, Any]], status: str, *, closes: bool
) -> list[dict[str, Any]]:
    """The request message with a status line (replacing an earlier one); `closes` takes the
    Approve and Reject buttons away, leaving a link to the review page."""
    blocks = [copy.deepcopy(b) for b in original if b.get("block_id") != STATUS_BLOCK]
    if closes:
        blocks = [b for b in blocks if b.get("block_id") != DECIDE_BLOCK]
    blocks.append(
        {
            "type": "context",
            "block_id": STATUS_BLOCK,
            "elements": [{"type": "mrkdwn", "text": cut(status, CONTEXT_TEXT)}],
        }
    )
    return blocks


def _part_text(view: PostView, position: int, text: str, media: list[dict[str, Any]]) -> str:
    label = f"*Part {position + 1} of {len(view.parts)}*\n" if len(view.parts) > 1 else ""
    lines = [label + _quoted(text)]
    for n, item in enumerate(media, start=1):
        alt = item.get("alt_text")
        said = escape(str(alt)) if alt else "_none given_"
        lines.append(f"_Image {n} alt text:_ {said}")
    return cut("\n".join(lines), SECTION_TEXT)


def _quoted(text: str) -> str:
    """The words as a quote, line by line, so they stand apart from pressgate's own."""
    return "\n".join("&gt; " + escape(line) if line else "&gt;" for line in text.split("\n"))


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_TEXT)}}


def _button(
    label: str, action_id: str, *, value: str | None = None, url: str | None = None, style: str = ""
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": cut(label, BUTTON_TEXT)},
    }
    if value is not None:
        button["value"] = value
    if url is not None:
        button["url"] = url
    if style:
        button["style"] = style
    return button
