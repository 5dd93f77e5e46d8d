"""Small factories for test data: an organisation's map, people, and posts in any state."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from approvals import posts
from approvals.clock import FrozenClock
from approvals.config import PressgateConfig, config_from_dict, load_config
from approvals.map_store import apply_config, get_person
from approvals.models import Person, Post
from approvals.posts import PartInput
from approvals.records.audit import SYSTEM
from approvals.records.audit_keys import AuditKeyring
from approvals.signoff import review

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = REPO / "deploy" / "pressgate.example.toml"
# Every test database's audit chain is sealed with this key (PRESSGATE_AUDIT_KEY in tests).
AUDIT_KEY = "test-audit-key-0123456789abcdef0123456789"
AUDIT_KEYS = AuditKeyring.derive(AUDIT_KEY)


def example_config() -> PressgateConfig:
    return load_config(EXAMPLE_CONFIG)


def small_config(**overrides: Any) -> dict[str, Any]:
    """A minimal valid map as a dict, for tests that change one thing in it."""
    raw: dict[str, Any] = {
        "accounts": [
            {"handle": "@DeptNews", "kind": "corporate", "approvals_required": 2},
            {"handle": "@DeptHelp", "kind": "corporate"},
            {"handle": "@MinisterOwn", "kind": "personal"},
        ],
        "roles": {
            "officer": {"actions": ["draft", "submit"], "accounts": ["@DeptNews", "@DeptHelp"]},
            "approver": {"actions": ["approve"], "accounts": ["@DeptNews", "@DeptHelp"]},
            "lead": {"actions": ["manage", "approve", "view_analytics"], "accounts": ["*"]},
        },
        "people": [
            {"email": "alice@example.org", "roles": ["officer"]},
            {"email": "bob@example.org", "roles": ["approver"]},
            {"email": "carol@example.org", "roles": ["approver"]},
            {"email": "dana@example.org", "roles": ["lead"]},
            {"email": "erin@example.org", "roles": ["officer"]},
        ],
    }
    raw.update(overrides)
    return raw


@dataclass
class Org:
    session: Session
    clock: FrozenClock

    def person(self, email: str) -> Person:
        return get_person(self.session, email)

    def draft(
        self,
        text: str = "Our new guidance is out today.",
        *,
        author: str = "alice@example.org",
        account: str = "@DeptNews",
        parts: list[str] | None = None,
        scheduled_in: timedelta | None = None,
    ) -> Post:
        now = self.clock.now()
        return posts.create_draft(
            self.session,
            actor=self.person(author),
            account_handle=account,
            parts=[PartInput(t) for t in (parts or [text])],
            now=now,
            scheduled_at=now + scheduled_in if scheduled_in else None,
        )

    def submitted(self, text: str = "Our new guidance is out today.", **kwargs: Any) -> Post:
        post = self.draft(text, **kwargs)
        assert post.id is not None
        return posts.submit(
            self.session, actor=post_author(self, post), post_id=post.id, now=self.clock.now()
        )

    def current_hash(self, post: Post) -> str:
        return posts.current_revision(self.session, post).content_hash

    def approve(self, post: Post, *by: str) -> review.Quorum:
        assert post.id is not None
        result: review.Quorum | None = None
        for email in by:
            result = review.approve(
                self.session,
                actor=self.person(email),
                post_id=post.id,
                revision_hash=self.current_hash(post),
                now=self.clock.now(),
            )
        assert result is not None
        return result

    def apply(self, raw: dict[str, Any], *, actor: str = SYSTEM) -> None:
        apply_config(
            self.session,
            config=config_from_dict(raw),
            source="test",
            actor=actor,
            now=self.clock.now(),
            operator=actor == SYSTEM,
        )


def post_author(org: Org, post: Post) -> Person:
    person = org.session.get(Person, post.author_id)
    assert person is not None
    return person


def load_org(session: Session, clock: FrozenClock, raw: dict[str, Any] | None = None) -> Org:
    org = Org(session, clock)
    org.apply(raw or small_config())
    session.commit()
    return org
