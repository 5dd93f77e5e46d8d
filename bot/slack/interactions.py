"""Approvers' clicks in Slack: Approve, Reject (and the modal asking why), Review.

The request message's buttons carry `post_id:revision_hash`, so a click decides on exactly
the words that message showed: if the post was edited since, the service refuses it as a
stale revision and nothing is recorded. The Slack user who clicked is a person only through
the `slack_id` the map gives them; decisions go to the same services as the CLI and the web
(`approvals.signoff.review`), audited with `via: slack`.

Every handler here only reads the payload and returns a `Reply`; the deciding happens in
its `then`, after Slack has its acknowledgement.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlmodel import Session

from approvals.db import MAX_ID, session_scope
from approvals.map_store import person_on_slack
from approvals.messaging.notice_blocks import APPROVE_ACTION, REJECT_ACTION
from approvals.models import Post
from approvals.posts import account_of, current_revision
from approvals.signoff import review
from bot.slack.replies import (
    VIA,
    Asker,
    Reply,
    SlackContext,
    answer,
    escape,
    from_another_workspace,
    open_view,
    tell,
)

# The ids the request messages' buttons (approvals.messaging.notice_blocks) and the reject modal
# carry.
REJECT_MODAL = "pressgate_reject"
REASON_BLOCK = "reason"
REASON_ACTION = "reason"
MAX_REASON = 3000  # what the modal's text input allows
_VALUE = re.compile(r"([1-9][0-9]{0,9}):([0-9a-f]{8,64})")
NOT_OURS = "This button was not made by pressgate, so it decides nothing. Nothing was recorded."


@dataclass(frozen=True)
class Target:
    """The post and revision a button names."""

    post_id: int
    revision_hash: str


def handle_interaction(ctx: SlackContext, payload: dict[str, Any]) -> Reply:
    """The acknowledgement of one interaction payload, and what to do after it."""
    if from_another_workspace(ctx, _dig(payload, "team", "id") or _dig(payload, "user", "team_id")):
        return Reply()  # acknowledged, so Slack does not retry; nothing done
    kind = payload.get("type")
    if kind == "block_actions":
        return _clicked(ctx, payload)
    if kind == "view_submission" and _dig(payload, "view", "callback_id") == REJECT_MODAL:
        return _reason_given(ctx, payload)
    return Reply()  # anything else pressgate did not ask for: acknowledged, ignored


def _clicked(ctx: SlackContext, payload: dict[str, Any]) -> Reply:
    actions = payload.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else {}
    action_id = action.get("action_id") if isinstance(action, dict) else None
    if action_id not in (APPROVE_ACTION, REJECT_ACTION):
        return Reply()  # the Review button, or something that is not ours
    asker = Asker(
        user_id=_dig(payload, "user", "id") or "",
        response_url=_text(payload.get("response_url")),
        channel_id=_dig(payload, "channel", "id") or _dig(payload, "container", "channel_id"),
    )
    target = _target(action.get("value"))
    if target is None:
        return Reply(then=partial(tell, ctx, asker, NOT_OURS))
    work: Callable[[], str | None]
    if action_id == APPROVE_ACTION:
        work = partial(_approve, ctx, target, asker)
    else:
        work = partial(_ask_reason, ctx, target, asker, _text(payload.get("trigger_id")))
    return Reply(then=partial(answer, ctx, asker, work))


def _approve(ctx: SlackContext, target: Target, asker: Asker) -> str:
    with session_scope(ctx.engine, via=VIA) as session:
        quorum = review.approve(
            session,
            actor=person_on_slack(session, asker.user_id),
            post_id=target.post_id,
            revision_hash=target.revision_hash,
            now=ctx.clock.now(),
            via=VIA,
        )
        number, handle = _described(session, target)
    counted = f"{len(quorum.approvers)} of {quorum.required} approvals count"
    after = " It is approved now." if quorum.met else ""
    return (
        f"You approved revision {number} of post {target.post_id} on {escape(handle)}: "
        f"{counted}.{after}"
    )


def _ask_reason(
    ctx: SlackContext, target: Target, asker: Asker, trigger_id: str | None
) -> str | None:
    """Open the reject modal, unless the rejection would be refused anyway (say so now)."""
    with session_scope(ctx.engine, read_only=True) as session:
        actor = person_on_slack(session, asker.user_id)
        review.may_decide(
            session, actor=actor, post_id=target.post_id, revision_hash=target.revision_hash
        )
        number, handle = _described(session, target)
    metadata = {
        "post": target.post_id,
        "hash": target.revision_hash,
        "response_url": asker.response_url,
        "channel": asker.channel_id,
    }
    if open_view(ctx, trigger_id, reject_modal(number, handle, target, json.dumps(metadata))):
        return None  # the modal asks; its submission answers
    page = f"{ctx.settings.base_url.rstrip('/')}/posts/{target.post_id}/review"
    return f"pressgate could not ask for your reason here: reject on {page}"


def reject_modal(number: int, handle: str, target: Target, metadata: str) -> dict[str, Any]:
    """The modal asking why: Slack sends it back (view_submission) with `metadata`."""
    about = (
        f"Reject revision {number} of post {target.post_id} on {escape(handle)}. "
        "The author sees your reason and nothing is published until they change the post."
    )
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Reject a post"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": about}},
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why reject it?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_ACTION,
                    "multiline": True,
                    "max_length": MAX_REASON,
                },
            },
        ],
    }


def _reason_given(ctx: SlackContext, payload: dict[str, Any]) -> Reply:
    """The modal came back: an empty reason keeps it open with the error on the field."""
    metadata = _metadata(payload)
    target = _target(f"{metadata.get('post')}:{metadata.get('hash')}")
    reason = _dig(payload, "view", "state", "values", REASON_BLOCK, REASON_ACTION, "value") or ""
    if not reason.strip():
        return _field_error("Say why the post is rejected: the author needs a reason to act on.")
    if len(reason) > MAX_REASON:
        return _field_error(f"Keep the reason to {MAX_REASON} characters.")
    if target is None:
        return _field_error(NOT_OURS)
    asker = Asker(
        user_id=_dig(payload, "user", "id") or "",
        response_url=_text(metadata.get("response_url")),
        channel_id=_text(metadata.get("channel")),
    )
    work = partial(_reject, ctx, target, asker, reason.strip())
    return Reply(then=partial(answer, ctx, asker, work))


def _reject(ctx: SlackContext, target: Target, asker: Asker, reason: str) -> str:
    with session_scope(ctx.engine, via=VIA) as session:
        review.reject(
            session,
            actor=person_on_slack(session, asker.user_id),
            post_id=target.post_id,
            revision_hash=target.revision_hash,
            reason=reason,
            now=ctx.clock.now(),
            via=VIA,
        )
        number, handle = _described(session, target)
    return (
        f"You rejected revision {number} of post {target.post_id} on {escape(handle)}: "
        "the author has your reason."
    )


def _metadata(payload: dict[str, Any]) -> dict[str, Any]:
    """What the modal was opened with (`private_metadata`), or {} if it is not ours."""
    try:
        found = json.loads(_dig(payload, "view", "private_metadata") or "")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _field_error(message: str) -> Reply:
    return Reply(ack={"response_action": "errors", "errors": {REASON_BLOCK: message}})


def _described(session: Session, target: Target) -> tuple[int, str]:
    """The post's current revision number and its account, for the answer."""
    post = session.get(Post, target.post_id)
    assert post is not None  # the service found it a moment ago, in this transaction
    return current_revision(session, post).number, account_of(session, post).handle


def _target(value: object) -> Target | None:
    match = _VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[1]) > MAX_ID:
        return None
    return Target(int(match[1]), match[2])


def _dig(data: object, *keys: str) -> str | None:
    """The string at `keys` in a payload, or None if any step is missing or of another type."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return _text(data)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
