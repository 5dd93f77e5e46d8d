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

    def tell(self, *, people: list[str], topic: str, message: str) -> None:
        """Tell people something that is about no one post (a budget crossed, the weekly
        analytics digest); `topic` names what it is, e.g. "budget_warn", "digest"."""
        ...


class LogNotifier:
    """Writes one log line per notification; the default until a Slack notifier is set up."""

    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        log.info("notify %s: post %s %s: %s", author, post_id, event, message)

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        log.info("remind %s: post %s: %s", ", ".join(approvers), post_id, message)

    def tell(self, *, people: list[str], topic: str, message: str) -> None:
        log.info("tell %s: %s: %s", ", ".join(people), topic, message)
