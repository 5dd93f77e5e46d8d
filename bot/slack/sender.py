"""The outbox's sender: a worker job that delivers due notices to Slack, once each.

Notices are written by `approvals.messaging.notices` with the change they report; this job claims
them one at a time (`approvals.messaging.outbox`; a batch at a time when they only go to the
log), sends with slack_sdk's WebClient at
PRESSGATE_SLACK_API_URL, and records the outcome: where Slack put a request message (its
channel and `ts`, so later decisions update it with `chat.update`), or why it failed and
when to try again. DMs go through `conversations.open`; a DM request gets the approver's
own signed review link here, made when it is sent, so it lasts its full time.

Slack failing (a 5xx, a timeout, a refused connection, a bad token) ends the pass and the
notice is tried again later, with backoff, for as long as it takes: an outage loses
nothing. A 429 is honoured: nothing is sent before its `Retry-After` has passed. A notice
Slack refuses for itself (a channel that does not exist, the bot not in it) is tried a few
times and then given up, with an error in the log. Without a bot token, every notice goes
to the log as one line and counts as delivered.
"""

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from approvals.clock import Clock
from approvals.db import session_scope
from approvals.errors import InvalidInput
from approvals.messaging.notice_blocks import BASE, LINK, review_page, updated_blocks
from approvals.messaging.notices import REQUEST, UPDATE
from approvals.messaging.outbox import (
    Claimed,
    claim,
    claim_due,
    due_ids,
    mark_claimed_sent,
    mark_failed,
    mark_sent,
)
from approvals.signoff.review_links import LinkSigner
from bot.link_signing import link_signer, link_url
from bot.settings import Settings
from bot.slack.replies import web_client

log = logging.getLogger("pressgate.slack.outbox")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")  # a member id (a DM), not a channel's name
GIVE_UP_AFTER = 5  # attempts, for a notice Slack refuses for itself (not for an outage)
DEFAULT_RETRY_AFTER = 30  # seconds, when a 429 does not say
LOG_BATCH = 100  # notices claimed, logged and recorded per transaction without Slack
# Errors that say Slack, or our standing with it, is unwell rather than this one notice.
OUTAGE_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
    }
)


class SlackUnwell(Exception):
    """Slack cannot take anything now: stop the pass; `retry_at` says when to try again."""

    def __init__(self, why: str, retry_at: datetime) -> None:
        super().__init__(why)
        self.why, self.retry_at = why, retry_at


class Sender:
    def __init__(self, *, settings: Settings, engine: Engine, clock: Clock, worker: str) -> None:
        self.settings, self.engine, self.clock, self.worker = settings, engine, clock, worker
        self.client: WebClient | None = web_client(settings)
        self.signer = _signer(settings)
        self.lease = timedelta(seconds=max(60.0, 4 * settings.slack_timeout))
        self.retry_base = timedelta(seconds=settings.retry_base)
        self.retry_max = timedelta(seconds=settings.retry_max)
        self.resting_until: datetime | None = None  # a 429's Retry-After, or an outage

    def run_once(self, limit: int = 200) -> int:
        """Send what is due (up to `limit` notices); the number delivered.

        Looks again after each round: a post's update is due only once its request is sent.
        """
        if self.client is None:
            return self._to_the_log(limit)
        delivered = tried = 0
        while tried < limit:
            now = self.clock.now()
            if self.resting_until is not None and now < self.resting_until:
                break
            with session_scope(self.engine, read_only=True) as session:
                ids = due_ids(session, now=now, limit=limit - tried)
            if not ids:
                break
            for notice_id in ids:
                tried += 1
                with session_scope(self.engine) as session:
                    claimed = claim(
                        session,
                        notice_id,
                        worker=self.worker,
                        now=self.clock.now(),
                        lease=self.lease,
                    )
                if claimed is None:
                    continue
                try:
                    delivered += self._send(claimed)
                except SlackUnwell as unwell:
                    self.resting_until = unwell.retry_at
                    self._failed(claimed, unwell.why, unwell.retry_at)
                    log.warning(
                        "Slack is unwell (%s): notices wait till %s", unwell.why, unwell.retry_at
                    )
                    return delivered
        return delivered

    def _to_the_log(self, limit: int) -> int:
        """Without a bot token every notice is one log line: nothing goes out between claim
        and record, so a batch is claimed, logged and marked sent in one transaction."""
        delivered = 0
        while delivered < limit:
            now = self.clock.now()
            with session_scope(self.engine) as session:
                batch, looked_at = claim_due(
                    session,
                    worker=self.worker,
                    now=now,
                    lease=self.lease,
                    limit=min(LOG_BATCH, limit - delivered),
                )
                for claimed in batch:
                    _log_line(claimed, self._resolved(claimed))
                mark_claimed_sent(session, batch, now=now)
            delivered += len(batch)
            if looked_at == 0:
                break
        return delivered

    def _send(self, claimed: Claimed) -> int:
        """Deliver one claimed notice and record it; 1 if it counts as delivered."""
        blocks = self._resolved(claimed)
        if self.client is None or (claimed.channel is None and claimed.kind != UPDATE):
            _log_line(claimed, blocks)
            return self._sent(claimed)
        try:
            if claimed.kind == UPDATE:
                assert claimed.target_blocks is not None
                self.client.chat_update(
                    channel=claimed.target_channel or "",
                    ts=claimed.target_ts or "",
                    text=claimed.text,
                    blocks=updated_blocks(
                        claimed.target_blocks, claimed.text, closes=claimed.closes
                    ),
                )
                return self._sent(claimed)
            assert claimed.channel is not None
            channel = self._open(claimed.channel)
            answer = self.client.chat_postMessage(
                channel=channel, text=claimed.text, blocks=blocks or None
            )
        except SlackApiError as error:
            self._refused(claimed, error)
            return 0
        except OSError as error:  # refused, reset, timed out (TimeoutError is an OSError)
            raise SlackUnwell(type(error).__name__, self._backoff(claimed)) from None
        kept = blocks if claimed.kind == REQUEST else None
        return self._sent(claimed, channel=answer.get("channel"), ts=answer.get("ts"), blocks=kept)

    def _open(self, channel: str) -> str:
        """A user id (a DM) becomes the id of the bot's conversation with them."""
        if not USER_ID.fullmatch(channel):
            return channel
        assert self.client is not None
        opened = self.client.conversations_open(users=channel)
        found = opened.get("channel")
        return str(found["id"]) if isinstance(found, dict) else channel

    def _resolved(self, claimed: Claimed) -> list[dict[str, Any]]:
        """The blocks with the real base URL, and the approver's own link where asked for."""
        if not claimed.blocks:
            return []
        base = self.settings.base_url.rstrip("/")
        link = f"{base}{review_page(claimed.post_id or 0).removeprefix(BASE)}"
        if claimed.link_for is not None and claimed.revision_hash and self.signer is not None:
            token = self.signer.issue(
                post_id=claimed.post_id or 0,
                revision_hash=claimed.revision_hash,
                approver_id=claimed.link_for,
                now=self.clock.now(),
            )
            link = link_url(self.settings, token)
        raw = json.dumps(claimed.blocks)
        raw = raw.replace(LINK, json.dumps(link)[1:-1]).replace(BASE, json.dumps(base)[1:-1])
        resolved: list[dict[str, Any]] = json.loads(raw)
        return resolved

    def _refused(self, claimed: Claimed, error: SlackApiError) -> None:
        status = error.response.status_code
        code = str(error.response.get("error") or f"HTTP {status}")
        now = self.clock.now()
        if status == 429 or code == "ratelimited":
            wait = _retry_after(error.response.headers)
            raise SlackUnwell(f"rate limited for {wait}s", now + timedelta(seconds=wait))
        if status >= 500 or code in OUTAGE_ERRORS:
            raise SlackUnwell(code, self._backoff(claimed))
        if claimed.attempts + 1 >= GIVE_UP_AFTER:
            log.error(
                "Slack refused notice %s %s times (%s); given up",
                claimed.id,
                claimed.attempts + 1,
                code,
            )
            self._failed(claimed, code, None)
        else:
            self._failed(claimed, code, self._backoff(claimed))

    def _backoff(self, claimed: Claimed) -> datetime:
        wait: timedelta = min(self.retry_base * (2 ** min(claimed.attempts, 20)), self.retry_max)
        now: datetime = self.clock.now()
        return now + wait

    def _sent(self, claimed: Claimed, **where: Any) -> int:
        with session_scope(self.engine) as session:
            recorded = mark_sent(session, claimed, now=self.clock.now(), **where)
        if not recorded:
            log.warning("notice %s was delivered after its claim lapsed", claimed.id)
        return 1

    def _failed(self, claimed: Claimed, why: str, retry_at: datetime | None) -> None:
        with session_scope(self.engine) as session:
            mark_failed(session, claimed, now=self.clock.now(), error=why, retry_at=retry_at)


def _signer(settings: Settings) -> LinkSigner | None:
    """Without a usable secret key, DMs point at the review page instead of a signed link."""
    try:
        return link_signer(settings)
    except InvalidInput:
        return None


def _retry_after(headers: Any) -> int:
    try:
        return max(int(headers.get("Retry-After") or DEFAULT_RETRY_AFTER), 1)
    except (TypeError, ValueError, AttributeError):
        return DEFAULT_RETRY_AFTER


def _log_line(claimed: Claimed, blocks: list[dict[str, Any]]) -> None:
    """One line per notice when it has nowhere to go in Slack (with a DM's link, if any)."""
    links = [
        str(e["url"])
        for b in blocks
        if b.get("type") == "actions"
        for e in b.get("elements", [])
        if e.get("url")
    ]
    where = claimed.channel or "nobody on Slack"
    text = " ".join(claimed.text.split())
    review = f" (review: {links[0]})" if links else ""
    log.info("slack %s %s to %s: %s%s", claimed.kind, claimed.id, where, text, review)
