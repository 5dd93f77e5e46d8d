"""A notifier that keeps a transcript, so tests read who was told what."""


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, str]] = []
        self.messages: list[tuple[int, str, str]] = []  # (post id, event, message)
        self.told: list[tuple[str, str, str]] = []  # (person, topic, message)

    def post_event(self, *, post_id: int, author: str, event: str, message: str) -> None:
        self.sent.append((author, post_id, event))
        self.messages.append((post_id, event, message))

    def remind_approvers(self, *, post_id: int, approvers: list[str], message: str) -> None:
        for approver in approvers:
            self.sent.append((approver, post_id, "reminder"))

    def tell(self, *, people: list[str], topic: str, message: str) -> None:
        for person in people:
            self.told.append((person, topic, message))
