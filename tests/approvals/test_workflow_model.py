"""Random sequences of draft / edit / submit / approve / reject / withdraw / map reload /
publish by random people, checked step by step against a model of the rules written
independently of the code (DESIGN invariants 1, 2 and 6).

The model decides from the raw config dict, not from `PermissionMap`, whether each person
may act, and predicts every outcome. After every step: the database agrees with the model,
every post that reached `publishing` had its quorum at that instant, and the audit chain
verifies and grew by exactly the successful steps.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from approvals import posts
from approvals.clock import FrozenClock
from approvals.config import config_from_dict
from approvals.delivery.publishing import start_publishing
from approvals.errors import PressgateError
from approvals.map_store import apply_config, current_map, get_person
from approvals.models import AuditEntry, Post, PostState, Revision
from approvals.posts import PartInput
from approvals.records import audit
from approvals.signoff import review
from approvals.workflow import move
from tests.conftest import NOW, reset_tables
from tests.factories import small_config

PEOPLE = [
    "alice@example.org",
    "erin@example.org",
    "bob@example.org",
    "carol@example.org",
    "dana@example.org",
]
OFFICERS = ["alice@example.org", "erin@example.org"]
APPROVERS = ["bob@example.org", "carol@example.org", "dana@example.org"]
# Half the time someone likely to hold the right, so sequences get far; otherwise anyone.
WRITER = st.one_of(st.sampled_from(OFFICERS), st.sampled_from(PEOPLE))
REVIEWER = st.one_of(st.sampled_from(APPROVERS), st.sampled_from(PEOPLE))
ACCOUNTS = ["@DeptNews", "@DeptHelp", "@MinisterOwn"]
# Few posts per run, so random steps carry each one far through its lifecycle.
MAX_POSTS = 3
TEXTS = ["Guidance out today", "Deadline is Friday", "Office closed on Monday", "New report"]


def _people(overrides: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    roles = {
        "alice@example.org": ["officer"],
        "erin@example.org": ["officer"],
        "bob@example.org": ["approver"],
        "carol@example.org": ["approver"],
        "dana@example.org": ["lead"],
    }
    roles.update(overrides or {})
    return [{"email": email, "roles": r} for email, r in roles.items()]


MAPS: list[dict[str, Any]] = [
    small_config(),
    small_config(people=_people({"bob@example.org": []})),  # bob loses approve rights
    small_config(  # one approval on @DeptNews
        accounts=[
            {"handle": "@DeptNews", "kind": "corporate", "approvals_required": 1},
            {"handle": "@DeptHelp", "kind": "corporate"},
            {"handle": "@MinisterOwn", "kind": "personal"},
        ]
    ),
    small_config(  # alice may also approve; carol may also draft
        people=_people(
            {
                "alice@example.org": ["officer", "approver"],
                "carol@example.org": ["approver", "officer"],
            }
        )
    ),
]
for raw in MAPS:
    config_from_dict(raw)  # every variant must be a valid map


def may(raw: dict[str, Any], email: str, action: str, handle: str) -> bool:
    """The oracle: does the raw map give `email` the right `action` on `handle`?"""
    account = next(a for a in raw["accounts"] if a["handle"].lower() == handle.lower())
    if account["kind"] != "corporate":
        return False
    person = next((p for p in raw["people"] if p["email"] == email), None)
    if person is None:
        return False
    for role_name in person["roles"]:
        role = raw["roles"][role_name]
        targets = {h.lower() for h in role["accounts"]}
        if action in role["actions"] and ("*" in targets or handle.lower() in targets):
            return True
    return False


def required(raw: dict[str, Any], handle: str) -> int:
    account = next(a for a in raw["accounts"] if a["handle"].lower() == handle.lower())
    return int(account.get("approvals_required") or 1)


@dataclass
class ModelPost:
    id: int
    account: str
    author: str
    text: str
    state: PostState = PostState.DRAFT
    revision: int = 1
    writers: set[str] = field(default_factory=set)
    approvers: set[str] = field(default_factory=set)  # approvals of the current revision
    rejected_by: set[str] = field(default_factory=set)


S = PostState
EDITABLE = {S.DRAFT, S.SUBMITTED, S.APPROVED, S.QUEUED, S.REJECTED, S.FAILED}
REVIEWABLE = {S.SUBMITTED, S.APPROVED, S.QUEUED}


class WorkflowModel(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        reset_tables(engine)
        self.session = Session(engine, expire_on_commit=False)
        self.clock = FrozenClock(NOW)
        self.raw = MAPS[0]
        self._apply(self.raw, actor=audit.SYSTEM, operator=True)
        self.posts: list[ModelPost] = []
        self.audit_before = self._audit_count()
        self.changed = False

    def teardown(self) -> None:
        self.session.close()

    # --- plumbing ---------------------------------------------------------------------
    def _apply(self, raw: dict[str, Any], *, actor: str, operator: bool) -> None:
        apply_config(
            self.session,
            config=config_from_dict(raw),
            source="model",
            actor=actor,
            now=self.clock.now(),
            operator=operator,
        )
        self.session.commit()

    def _audit_count(self) -> int:
        return int(self.session.exec(select(func.count()).select_from(AuditEntry)).one())

    def _attempt(self, expected_ok: bool, action: Any) -> bool:
        """Run one domain call in its own transaction; it must succeed exactly when expected."""
        self.audit_before = self._audit_count()
        try:
            action()
        except PressgateError as error:
            self.session.rollback()
            assert not expected_ok, f"refused but the model allows it: {error}"
            self.changed = False
            return False
        self.session.commit()
        assert expected_ok, "allowed but the model forbids it"
        self.changed = True
        return True

    def _quorum_holds(self, post: ModelPost) -> bool:
        valid = {
            p
            for p in post.approvers
            if p not in post.writers and may(self.raw, p, "approve", post.account)
        }
        return len(valid) >= required(self.raw, post.account)

    def _live(self) -> list[ModelPost]:
        return [p for p in self.posts if p.state not in {S.WITHDRAWN, S.PUBLISHED}]

    def _pick(self, data: st.DataObject) -> ModelPost:
        """Mostly a post still in play; now and then a finished one, whose refusals count too."""
        live = self._live()
        if live and data.draw(st.integers(0, 4), label="live") > 0:
            return data.draw(st.sampled_from(live), label="post")
        return data.draw(st.sampled_from(self.posts), label="post")

    def _skip(self) -> None:
        self.audit_before = self._audit_count()
        self.changed = False

    def _hash(self, post: ModelPost) -> str:
        db_post = self.session.get(Post, post.id)
        assert db_post is not None
        return posts.current_revision(self.session, db_post).content_hash

    # --- rules ------------------------------------------------------------------------
    @precondition(lambda self: len(self._live()) < MAX_POSTS)
    @rule(
        person=WRITER,
        account=st.sampled_from(ACCOUNTS),
        text=st.sampled_from(TEXTS),
    )
    def draft(self, person: str, account: str, text: str) -> None:
        created: list[Post] = []

        def act() -> None:
            created.append(
                posts.create_draft(
                    self.session,
                    actor=get_person(self.session, person),
                    account_handle=account,
                    parts=[PartInput(text)],
                    now=self.clock.now(),
                )
            )

        if self._attempt(may(self.raw, person, "draft", account), act):
            assert created[0].id is not None
            self.posts.append(ModelPost(created[0].id, account, person, text, writers={person}))

    @precondition(lambda self: self.posts)
    @rule(data=st.data(), person=WRITER, text=st.sampled_from(TEXTS))
    def edit(self, data: st.DataObject, person: str, text: str) -> None:
        post = self._pick(data)
        ok = (
            may(self.raw, person, "draft", post.account)
            and post.state in EDITABLE
            and text != post.text
        )

        def act() -> None:
            posts.edit(
                self.session,
                actor=get_person(self.session, person),
                post_id=post.id,
                parts=[PartInput(text)],
                now=self.clock.now(),
            )

        if self._attempt(ok, act):
            post.text, post.revision = text, post.revision + 1
            post.writers.add(person)
            post.approvers.clear()
            post.rejected_by.clear()
            post.state = S.DRAFT if post.state in {S.DRAFT, S.REJECTED} else S.SUBMITTED

    @precondition(lambda self: self.posts)
    @rule(data=st.data(), person=WRITER)
    def submit(self, data: st.DataObject, person: str) -> None:
        post = self._pick(data)
        ok = may(self.raw, person, "submit", post.account) and post.state == S.DRAFT

        def act() -> None:
            posts.submit(
                self.session,
                actor=get_person(self.session, person),
                post_id=post.id,
                now=self.clock.now(),
            )

        if self._attempt(ok, act):
            post.state = S.SUBMITTED

    @precondition(lambda self: self.posts)
    @rule(data=st.data(), person=REVIEWER, stale=st.booleans())
    def approve(self, data: st.DataObject, person: str, stale: bool) -> None:
        post = self._pick(data)
        # Words edited away and back again hash the same: such an "old" hash is the current one.
        stale = stale and post.revision > 1 and self._stale_hash(post) != self._hash(post)
        ok = (
            post.state == S.SUBMITTED
            and person not in post.writers
            and may(self.raw, person, "approve", post.account)
            and person not in post.approvers
            and not stale
        )
        revision_hash = self._stale_hash(post) if stale else self._hash(post)

        def act() -> None:
            review.approve(
                self.session,
                actor=get_person(self.session, person),
                post_id=post.id,
                revision_hash=revision_hash,
                now=self.clock.now(),
            )

        if self._attempt(ok, act):
            post.approvers.add(person)
            if self._quorum_holds(post):
                post.state = S.APPROVED

    def _stale_hash(self, post: ModelPost) -> str:
        old = self.session.exec(
            select(Revision).where(Revision.post_id == post.id, Revision.number == 1)
        ).one()
        return old.content_hash

    @precondition(lambda self: self.posts)
    @rule(data=st.data(), person=REVIEWER)
    def reject(self, data: st.DataObject, person: str) -> None:
        post = self._pick(data)
        ok = (
            post.state in REVIEWABLE
            and person not in post.writers
            and may(self.raw, person, "approve", post.account)
        )

        def act() -> None:
            review.reject(
                self.session,
                actor=get_person(self.session, person),
                post_id=post.id,
                revision_hash=self._hash(post),
                reason="not like this",
                now=self.clock.now(),
            )

        if self._attempt(ok, act):
            post.state = S.REJECTED
            post.approvers.discard(person)
            post.rejected_by.add(person)

    @precondition(lambda self: self.posts)
    @rule(data=st.data(), person=st.sampled_from(PEOPLE))
    def withdraw(self, data: st.DataObject, person: str) -> None:
        if data.draw(st.integers(0, 3), label="rarely") > 0:  # withdrawing ends a post's story
            return self._skip()
        post = self._pick(data)
        allowed_person = (
            person == post.author and may(self.raw, person, "draft", post.account)
        ) or may(self.raw, person, "manage", post.account)
        withdrawable = post.state in {
            S.DRAFT,
            S.SUBMITTED,
            S.APPROVED,
            S.QUEUED,
            S.REJECTED,
            S.FAILED,
        }
        ok = allowed_person and withdrawable

        def act() -> None:
            posts.withdraw(
                self.session,
                actor=get_person(self.session, person),
                post_id=post.id,
                now=self.clock.now(),
            )

        if self._attempt(ok, act):
            post.state = S.WITHDRAWN

    @rule(
        index=st.integers(0, len(MAPS) - 1),
        by=st.sampled_from(["dana@example.org", "bob@example.org"]),
        rarely=st.integers(0, 3),
    )
    def reload_map(self, index: int, by: str, rarely: int) -> None:
        if rarely > 0:
            return self._skip()
        raw = MAPS[index]
        ok = by == "dana@example.org"  # only the lead holds manage on every account

        def act() -> None:
            apply_config(
                self.session,
                config=config_from_dict(raw),
                source="model",
                actor=by,
                now=self.clock.now(),
            )

        if self._attempt(ok, act):
            self.changed = raw != self.raw
            self.raw = raw

    @precondition(lambda self: self.posts)
    @rule(data=st.data())
    def publish(self, data: st.DataObject) -> None:
        """The only door to X: claim the post, then record it as published."""
        post = self._pick(data)
        self.clock.advance(timedelta(minutes=1))
        if post.state not in {S.APPROVED, S.QUEUED}:
            self._attempt(
                False,
                lambda: start_publishing(
                    self.session, post_id=post.id, worker="t", now=self.clock.now()
                ),
            )
            return
        holds = self._quorum_holds(post)
        self.audit_before = self._audit_count()
        claim = start_publishing(self.session, post_id=post.id, worker="t", now=self.clock.now())
        assert claim.claimed == holds, (claim.reasons, post)
        if claim.claimed:
            # Invariant 1, checked by the oracle at the instant of publishing.
            assert self._quorum_holds(post)
            move(self.session, claim.post, S.PUBLISHED, actor="system", now=self.clock.now())
            post.state = S.PUBLISHED
        else:
            post.state = S.SUBMITTED  # approvals lapsed: back to review
        self.session.commit()
        self.changed = True

    # --- invariants -------------------------------------------------------------------
    @invariant()
    def database_agrees_with_the_model(self) -> None:
        for post in self.posts:
            db_post = self.session.get(Post, post.id)
            assert db_post is not None
            self.session.refresh(db_post)
            assert db_post.state == post.state, (post, db_post.state)
            assert db_post.revision_no == post.revision

    @invariant()
    def only_current_revision_approvals_by_non_authors_count(self) -> None:
        pmap = current_map(self.session)
        for post in self.posts:
            db_post = self.session.get(Post, post.id)
            assert db_post is not None
            status = review.quorum(self.session, db_post, pmap)
            assert set(status.approvers) <= post.approvers - post.writers
            assert all(may(self.raw, p, "approve", post.account) for p in status.approvers)

    @invariant()
    def audit_chain_verifies_and_records_every_change(self) -> None:
        result = audit.verify(self.session)
        assert result.ok, result.problem
        after = self._audit_count()
        if self.changed:
            assert after > self.audit_before
        else:
            assert after == self.audit_before


def test_random_workflows_keep_the_invariants(engine: Engine) -> None:
    run_state_machine_as_test(
        lambda: WorkflowModel(engine),
        settings=settings(
            max_examples=50,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
