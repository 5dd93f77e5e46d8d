"""Telling people what happened to a post. Slack implements this later; until then, logs."""

import logging
from typing import Protocol

log = logging.getLogger("pressgate.notify")


class Notifier(Protocol):
    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        """Tell a post's author it was published, failed or taken down."""
        ...

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        """Ask approvers to decide on a post that is due soon and short of approvals."""
        ...


class LogNotifier:
    """Writes one log line per notification; the default until a Slack notifier is set up."""

    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        log.info("notify %s: post %s %s: %s", author, post_id, event, message)

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        log.info("remind %s: post %s: %s", ", ".join(approvers), post_id, message)
