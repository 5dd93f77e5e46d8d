"""The reasons people give for a rejection, a takedown or a pause.

A reason is read by the author, shown on pages and in Slack, and kept in the audit log for
good, so it is held to the same rules as the words of a post: no control characters (a NUL
cannot even be stored by PostgreSQL, which used to turn such a reason into a crash) and a
length a person can read.
"""

from approvals.content.hidden_text import refuse_control_characters
from approvals.errors import InvalidInput

MAX_REASON_CHARACTERS = 1000


def check_reason(reason: str, *, what: str) -> str:
    """The reason without surrounding blanks, or `InvalidInput` naming `what` was wrong."""
    if len(reason) > MAX_REASON_CHARACTERS:
        raise InvalidInput(
            f"{what} is {len(reason)} characters long; keep it to {MAX_REASON_CHARACTERS}"
        )
    refuse_control_characters(reason, where=what)
    return reason.strip()
