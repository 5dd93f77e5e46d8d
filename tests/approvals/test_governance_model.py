"""The governance rules under random sequences, checked against a model written apart from
the code (the companion of test_workflow_model.py, which checks plain counts).

Random drafts, tags, approvals by random people, edits, map reloads (a stage becomes "all
of legal"), clock jumps past the approvals' maximum age, pauses of all publishing and
resumes by random duty officers, and publish attempts. The model decides by brute force
(every assignment of approvers to places) whether each post's stages are filled, from the
raw map; the code uses a matching. After every step:
- no post publishes without every required stage filled for its current revision;
- no expired approval counts;
- a pause of all publishing that one person asked to lift stays in force.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import permutations
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
from sqlmodel import Session

from approvals import posts
from approvals.clock import FrozenClock
from approvals.config import config_from_dict
from approvals.delivery import controls
from approvals.delivery.publishing import start_publishing
from approvals.errors import PressgateError
from approvals.map_store import apply_config, current_map, get_account, get_person
from approvals.models import Post, PostState
from approvals.posts import PartInput
from approvals.records import audit
from approvals.signoff import review
from approvals.signoff.tags import set_tags
from approvals.workflow import move
from tests.approvals.governance_maps import staged_config
from tests.conftest import NOW, reset_tables

S = PostState
MAX_AGE = timedelta(hours=2)
ACCOUNT = "@DeptNews"
AUTHORS = ["alice@example.org", "erin@example.org"]
REVIEWERS = [
    "bob@example.org",
    "carol@example.org",
    "dana@example.org",
    "gina@example.org",
    "erin@example.org",
    "alice@example.org",
]
DUTY = ["frank@example.org", "hal@example.org", "bob@example.org"]
LEGAL_ALL = {
    "stages": [
        {"name": "press", "role": "press_lead", "need": 1},
        {"name": "legal", "role": "legal", "need": "all"},
    ]
}
MAPS: list[dict[str, Any]] = [
    staged_config(account={"approval_max_age_hours": 2}),
    staged_config(account={"approval_max_age_hours": 2, **LEGAL_ALL}),
]
for raw in MAPS:
    config_from_dict(raw)


def roles_of(raw: dict[str, Any], email: str) -> set[str]:
    person = next((p for p in raw["people"] if p["email"] == email), None)
    return set(person["roles"]) if person else set()


def places(raw: dict[str, Any], tags: set[str], authors: set[str]) -> list[set[str]]:
    """Every place the post's stages have, each as the set of people who may fill it."""
    account = next(a for a in raw["accounts"] if a["handle"] == ACCOUNT)
    stages = list(account["stages"])
    stages += [s for s in raw["extra_stages"] if set(s.get("on_tags", [])) & tags]
    people = [p["email"] for p in raw["people"] if p["email"] not in authors]
    result: list[set[str]] = []
    for stage in stages:
        holders = {e for e in people if stage["role"] in roles_of(raw, e)}
        if stage["need"] == "all":
            result.extend({e} for e in sorted(holders))
        else:
            result.extend(set(holders) for _ in range(stage["need"]))
    return result


def filled(slots: list[set[str]], approvers: set[str]) -> bool:
    """Brute force: some order of distinct approvers fills every place."""
    if len(approvers) < len(slots):
        return False
    return any(
        all(person in slot for person, slot in zip(order, slots, strict=False))
        for order in permutations(sorted(approvers), len(slots))
    )


@dataclass
class ModelPost:
    id: int
    author: str
    state: PostState = S.SUBMITTED
    revision: int = 1
    tags: set[str] = field(default_factory=set)
    approved_at: dict[str, datetime] = field(default_factory=dict)  # current revision


class GovernanceModel(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        reset_tables(engine)
        self.session = Session(engine, expire_on_commit=False)
        self.clock = FrozenClock(NOW)
        self.raw = MAPS[0]
        self._apply(self.raw)
        self.posts: list[ModelPost] = []
        self.paused = False
        self.asked_by: str | None = None  # first of the two people lifting the global pause

    def teardown(self) -> None:
        self.session.close()

    def _apply(self, raw: dict[str, Any]) -> None:
        config = config_from_dict(raw)
        now = self.clock.now()
        apply_config(
            self.session, config=config, source="model", actor=audit.SYSTEM, now=now, operator=True
        )
        self.session.commit()

    def _attempt(self, expected_ok: bool, action: Any) -> Any:
        try:
            result = action()
        except PressgateError as error:
            self.session.rollback()
            assert not expected_ok, f"refused but the model allows it: {error}"
            return None
        self.session.commit()
        assert expected_ok, "allowed but the model forbids it"
        return result

    def _valid(self, post: ModelPost) -> set[str]:
        """Approvals that count: not expired, by someone who fills one of the post's places."""
        now = self.clock.now()
        anyone = set().union(*places(self.raw, post.tags, {post.author}))
        return {p for p, at in post.approved_at.items() if now < at + MAX_AGE and p in anyone}

    def _met(self, post: ModelPost) -> bool:
        return filled(places(self.raw, post.tags, {post.author}), self._valid(post))

    def _db(self, post: ModelPost) -> Post:
        found = self.session.get(Post, post.id)
        assert found is not None
        return found

    # --- rules --------------------------------------------------------------------------
    @precondition(lambda self: len(self.posts) < 3)
    @rule(author=st.sampled_from(AUTHORS), tagged=st.booleans())
    def draft_and_submit(self, author: str, tagged: bool) -> None:
        actor = get_person(self.session, author)
        now = self.clock.now()
        post = posts.create_draft(
            self.session, actor=actor, account_handle=ACCOUNT, parts=[PartInput("Hello")], now=now
        )
        assert post.id is not None
        posts.submit(self.session, actor=actor, post_id=post.id, now=now)
        model = ModelPost(post.id, author)
        if tagged:
            set_tags(
                self.session, actor=actor, post_id=post.id, add=["pre-election"], remove=[], now=now
            )
            model.tags.add("pre-election")
        self.session.commit()
        self.posts.append(model)

    @precondition(lambda self: self.posts)
    @rule(data=st.data(), who=st.sampled_from(REVIEWERS))
    def approve(self, data: st.DataObject, who: str) -> None:
        post = data.draw(st.sampled_from(self.posts))
        anyone = set().union(*places(self.raw, post.tags, {post.author}))
        given = post.approved_at.get(who)
        fresh = given is not None and self.clock.now() < given + MAX_AGE
        ok = post.state == S.SUBMITTED and who != post.author and who in anyone and not fresh
        db_post = self._db(post)
        digest = posts.current_revision(self.session, db_post).content_hash
        status = self._attempt(
            ok,
            lambda: review.approve(
                self.session,
                actor=get_person(self.session, who),
                post_id=post.id,
                revision_hash=digest,
                now=self.clock.now(),
            ),
        )
        if status is not None:
            post.approved_at[who] = self.clock.now()
            assert status.met == self._met(post), (status, post)
            if status.met:
                post.state = S.APPROVED

    @precondition(lambda self: self.posts)
    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        post = data.draw(st.sampled_from(self.posts))
        ok = post.state in {S.SUBMITTED, S.APPROVED}
        text = f"Hello again {post.revision}"
        done = self._attempt(
            ok,
            lambda: posts.edit(
                self.session,
                actor=get_person(self.session, post.author),
                post_id=post.id,
                parts=[PartInput(text)],
                now=self.clock.now(),
            ),
        )
        if done is not None:
            post.revision += 1
            post.approved_at.clear()
            post.state = S.SUBMITTED

    @rule(minutes=st.integers(0, 150))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @rule(index=st.integers(0, len(MAPS) - 1))
    def reload_map(self, index: int) -> None:
        self.raw = MAPS[index]
        self._apply(self.raw)

    @rule(who=st.sampled_from(DUTY))
    def pause_everything(self, who: str) -> None:
        ok = not self.paused and who != "bob@example.org"
        done = self._attempt(
            ok,
            lambda: (
                controls.pause(
                    self.session,
                    actor=get_person(self.session, who),
                    now=self.clock.now(),
                    reason="x",
                )
                or True
            ),
        )
        if done:
            self.paused, self.asked_by = True, None

    @rule(who=st.sampled_from(DUTY))
    def resume_everything(self, who: str) -> None:
        ok = self.paused and who != "bob@example.org" and who != self.asked_by
        done = self._attempt(
            ok,
            lambda: controls.resume(
                self.session, actor=get_person(self.session, who), now=self.clock.now()
            ),
        )
        if done is None:
            return
        assert done.lifted == (self.asked_by is not None), (done, self.asked_by)
        if done.lifted:
            self.paused, self.asked_by = False, None
        else:
            self.asked_by = who

    @precondition(lambda self: any(p.state == S.APPROVED for p in self.posts))
    @rule(data=st.data())
    def publish(self, data: st.DataObject) -> None:
        post = data.draw(st.sampled_from([p for p in self.posts if p.state == S.APPROVED]))
        self.clock.advance(timedelta(minutes=1))
        now = self.clock.now()
        met = self._met(post)
        claim = start_publishing(self.session, post_id=post.id, worker="t", now=now)
        assert claim.claimed == (met and not self.paused), (claim.reasons, post, self.paused)
        if claim.claimed:
            # The invariant, checked by the model at the instant of publishing.
            assert self._met(post)
            move(self.session, claim.post, S.PUBLISHED, actor="system", now=now)
            post.state = S.PUBLISHED
        elif not self.paused:
            post.state = S.SUBMITTED  # short of a stage or expired: back to review
        self.session.commit()

    # --- invariants ---------------------------------------------------------------------
    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        for post in self.posts:
            db_post = self._db(post)
            self.session.refresh(db_post)
            assert db_post.state == post.state, (post, db_post.state)
            assert db_post.revision_no == post.revision

    @invariant()
    def no_expired_approval_counts(self) -> None:
        pmap = current_map(self.session)
        for post in self.posts:
            status = review.quorum(self.session, self._db(post), pmap, now=self.clock.now())
            assert set(status.approvers) <= self._valid(post), (status, post)
            assert status.met == self._met(post)

    @invariant()
    def a_pause_one_person_asked_to_lift_stays_in_force(self) -> None:
        account = get_account(self.session, ACCOUNT)
        held = controls.holds(self.session, account, self.clock.now())
        assert any("all publishing is paused" in h for h in held) == self.paused


def test_random_governance_keeps_the_invariants(engine: Engine) -> None:
    run_state_machine_as_test(
        lambda: GovernanceModel(engine),
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
