"""Telling people what happened to a post, outside the outbox.

Notices to people go through the outbox (`approvals.notices`), written with the change they
report and sent by the worker, to Slack or to the log; so the worker's default notifier
says nothing more (`OutboxNotifier`). The protocol stays for callers that want a
transcript of their own (the tests' recording notifier).
"""

from typing import Protocol


class Notifier(Protocol):
    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        """Tell a post's author it was published, failed or taken down."""
        ...

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        """Ask approvers to decide on a post that is due soon and short of approvals."""
        ...


class OutboxNotifier:
    """Says nothing: the outbox already holds these notices, written with their change."""

    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        pass

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        pass
