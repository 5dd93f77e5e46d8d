"""Answering the person in Slack: the acknowledgement, then the result, just to them.

Slack waits 3 seconds for an interaction or a command to be acknowledged, and a decision
may wait longer than that for a database lock. So every handler returns a `Reply` at once:
what to acknowledge with, and the work to do after it (decide, then tell the person through
the `response_url` Slack gave, or open a modal). The HTTP routes do that work after their
response has gone, Socket Mode after its ack; nothing after the ack may raise.

What everyone else sees (the request messages updated, the author told) comes from the
outbox, never from here: this module answers only the person who asked.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.engine import Engine

from approvals.clock import Clock
from approvals.errors import PressgateError, StaleRevision
from approvals.messaging.slack_text import escape as escape  # the handlers take it from here
from bot.settings import Settings

log = logging.getLogger("pressgate.slack")
VIA = "slack"  # the door every change made from Slack is audited as coming through
# Where Slack's response_url points (besides PRESSGATE_SLACK_API_URL's own host, for a
# Slack stand-in): an answer is never posted anywhere else, whatever a payload says.
RESPONSE_HOSTS = frozenset({"hooks.slack.com"})


@dataclass(frozen=True)
class SlackContext:
    """What the handlers need: the database, the settings and the clock of the app."""

    engine: Engine
    settings: Settings
    clock: Clock


@dataclass(frozen=True)
class Asker:
    """Who clicked or typed, and where Slack lets us answer them alone."""

    user_id: str
    response_url: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """The acknowledgement's body (None: an empty 200) and the work to do after sending it."""

    ack: dict[str, Any] | None = None
    then: Callable[[], None] | None = None


OTHER_WORKSPACE = "pressgate answers only the Slack workspace it serves; nothing was recorded."


def from_another_workspace(ctx: SlackContext, team_id: str | None) -> bool:
    """A request from a workspace other than PRESSGATE_SLACK_TEAM_ID (when it is set): the
    same app installed elsewhere signs with the same secret, so the signature alone does not
    say whose Slack a click came from. Checked for HTTP and Socket Mode alike."""
    expected = ctx.settings.slack_team_id
    if expected is None or team_id == expected:
        return False
    log.warning("refused a Slack request from workspace %r (serving %s)", team_id, expected)
    return True


def refused(error: PressgateError) -> str:
    """The answer to a decision or command that a rule refused: nothing was recorded."""
    message = escape(str(error))
    if isinstance(error, StaleRevision):
        return f"Nothing was recorded: the words changed after this message was sent ({message})."
    return f"Nothing was recorded: {message}."


def answer(ctx: SlackContext, asker: Asker, work: Callable[[], str | None]) -> None:
    """Do `work` after the ack and tell the asker what it says (None: nothing to tell):
    the result, why a rule refused it, or that pressgate itself failed. Never raises."""
    try:
        text = work()
    except PressgateError as error:
        text = refused(error)
    except Exception:  # the database failed us: say so rather than nothing
        log.exception("a Slack request from %s failed", asker.user_id)
        text = "pressgate could not do that because of an error on its side; nothing was "
        text += "recorded: try again, or use the web pages."
    if text is not None:
        tell(ctx, asker, text)


def web_client(settings: Settings) -> WebClient | None:
    """slack_sdk's client for the bot, or None when Slack is not set up."""
    if settings.slack_bot_token is None:
        return None
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(max(settings.slack_timeout, 1)),
    )


def tell(ctx: SlackContext, asker: Asker, text: str) -> None:
    """An ephemeral answer to the asker alone: through response_url, else chat.postEphemeral.

    Never raises: the request was acknowledged already, and a failure here only loses the
    answer (the outbox updates the shared messages whatever happens here).
    """
    settings = ctx.settings
    try:
        if asker.response_url and _trusted(asker.response_url, settings):
            hook = WebhookClient(asker.response_url, timeout=int(max(settings.slack_timeout, 1)))
            answer = hook.send_dict(
                {"response_type": "ephemeral", "replace_original": False, "text": text}
            )
            if answer.status_code != 200:
                log.warning("Slack refused an answer at response_url: %s", answer.status_code)
            return
        client = web_client(settings)
        if client is not None and asker.channel_id:
            client.chat_postEphemeral(channel=asker.channel_id, user=asker.user_id, text=text)
            return
        log.info("answer for Slack user %s (nowhere to send it): %s", asker.user_id, text)
    except (SlackApiError, OSError) as error:  # OSError: refused, reset, timed out
        log.warning("could not answer Slack user %s: %s", asker.user_id, type(error).__name__)


def open_view(ctx: SlackContext, trigger_id: str | None, view: dict[str, Any]) -> bool:
    """Open a modal for the click that gave `trigger_id` (valid for 3 seconds); False if
    Slack is not set up or refused."""
    client = web_client(ctx.settings)
    if client is None or not trigger_id:
        return False
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except (SlackApiError, OSError) as error:
        log.warning("could not open a Slack modal: %s", _reason(error))
        return False
    return True


def _trusted(url: str, settings: Settings) -> bool:
    """Slack's own hooks host, or the host pressgate is told Slack's API lives at."""
    parts = urlsplit(url)
    api = urlsplit(settings.slack_api_url)
    if parts.scheme == "https" and parts.hostname in RESPONSE_HOSTS:
        return True
    if (parts.scheme, parts.netloc) == (api.scheme, api.netloc):
        return True
    log.warning("ignored a response_url on %s: not Slack's", parts.hostname)
    return False


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "error"))
    return type(error).__name__
