"""Text for Slack: shown as typed (mrkdwn escaped), and cut to Block Kit's limits visibly.

Slack refuses a whole message when one field is too long (`invalid_blocks`), and a message
that loses words silently could be approved on words the approver never saw; so text that
does not fit is cut at a limit with a marker saying so and where the rest is.
"""

# Block Kit's limits (api.slack.com/reference/block-kit): characters, and blocks a message.
SECTION_TEXT = 3000
CONTEXT_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
FALLBACK_TEXT = 3000  # `text` may be 40,000, but notifications show only the start
MAX_BLOCKS = 50
CUT = "… [cut: too long for Slack; read it all on the review page]"


def escape(text: str) -> str:
    """Text shown as it was typed in mrkdwn: no markup, links or mentions made of it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int, marker: str = CUT) -> str:
    """`text` if it fits in `limit` characters, else its start and the marker (both fit)."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(marker), 0)
    head = text[:keep]
    amp = head.rfind("&", max(len(head) - 5, 0))
    if amp != -1 and ";" not in head[amp:]:  # never leave half an escape (&am…)
        head = head[:amp]
    return head + marker[: limit - len(head)]
