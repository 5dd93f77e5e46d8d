"""The authorisation matrix: every state-changing route of the app, web form and JSON API
alike, for each kind of person, on an account they hold rights on and on one they do not.

Only the cells the map allows succeed; every refused cell changes nothing (the row count of
every table, the audit head, the posts' states and the pauses are as they were). The routes
are read from the app itself, so a new route without an entry here fails the test. Each
cell gets a fresh post in the state its route acts on, so cells never depend on each other;
one app and one database per kind of database keep it quick.
"""

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from approvals import posts
from approvals.db import make_engine, session_scope
from approvals.delivery import controls
from approvals.map_store import get_person
from approvals.models import Account, AuditHead, GlobalPause, Post
from approvals.posts import PartInput
from approvals.signoff import review
from approvals.staff import consultation
from bot.web.app import create_app
from tests.bot.conftest import Cli, make_cli
from tests.bot.web.conftest import TRUSTED, Web, web_settings
from tests.bot.web.post_world import publish_due

NEWS, HELP = "@DeptNews", "@DeptHelp"
MINUTE = timedelta(minutes=1)
OTHER = {NEWS: HELP, HELP: NEWS}
MAP = """
[[accounts]]
handle = "@DeptNews"
name = "Department news"
kind = "corporate"
approvals_required = 1
timezone = "Europe/London"

[[accounts]]
handle = "@DeptHelp"
name = "Department help"
kind = "corporate"
approvals_required = 1
timezone = "Europe/London"

[roles.press_officer]
actions = ["draft", "submit"]
accounts = ["@DeptNews"]

[roles.help_officer]
actions = ["draft", "submit"]
accounts = ["@DeptHelp"]

[roles.approver]
actions = ["approve"]
accounts = ["@DeptNews"]

[roles.help_approver]
actions = ["approve"]
accounts = ["@DeptHelp"]

[roles.strategy_lead]
actions = ["view_analytics", "approve"]
accounts = ["@DeptNews"]

[roles.policy_owner]
actions = ["manage"]
accounts = ["*"]

[roles.union_rep]
actions = []
accounts = []

[roles.duty_officer]
actions = ["pause", "takedown", "view_analytics"]
accounts = ["@DeptNews"]

[roles.operator]
actions = ["approve", "pause", "takedown", "manage"]
accounts = ["*"]

[[people]]
email = "alice@example.org"
roles = ["press_officer"]

[[people]]
email = "pat@example.org"
roles = ["help_officer"]

[[people]]
email = "bob@example.org"
roles = ["approver", "union_rep"]

[[people]]
email = "hana@example.org"
roles = ["help_approver"]

[[people]]
email = "dana@example.org"
roles = ["strategy_lead", "policy_owner"]

[[people]]
email = "sam@example.org"
roles = ["duty_officer"]

[[people]]
email = "olga@example.org"
roles = ["operator"]

[guidance]
organisation = "the Department"
contact = "the press office"
union_role = "union_rep"
"""
# Who each persona is, and the account they hold their rights on. The strategy lead
# approves on @DeptNews and manages everything (the map, the guidance: organisation-wide);
# Bob is also the union representative who signs the guidance off. Pat (the author of posts
# on @DeptHelp) and Olga (who approves and pauses for the set-up) are not in the matrix.
PERSONAS: dict[str, tuple[str | None, str]] = {
    "press officer": ("alice@example.org", NEWS),
    "approver": ("bob@example.org", NEWS),
    "approver elsewhere": ("hana@example.org", HELP),
    "duty officer": ("sam@example.org", NEWS),
    "strategy lead": ("dana@example.org", NEWS),
    "not in the map": ("eve@example.org", NEWS),
    "anonymous": (None, NEWS),
}
AUTHOR = {NEWS: "alice@example.org", HELP: "pat@example.org"}
OPERATOR = "olga@example.org"
UNION_REP = "bob@example.org"
IN_MAP = frozenset(p for p, (email, _) in PERSONAS.items() if email and "eve" not in email)
EVERYONE = frozenset(PERSONAS)
NOBODY: frozenset[str] = frozenset()
APPROVERS = frozenset({"approver", "approver elsewhere", "strategy lead"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LATER = "2026-12-01 09:30"  # a week after the tests' clock


@dataclass(frozen=True)
class Call:
    """The request a cell makes: its path, and its body as a form or as JSON."""

    path: str
    form: dict[str, Any] | None = None
    json: Any = None
    files: dict[str, Any] | None = None


@dataclass
class World:
    cli: Cli
    engine: Engine
    web: Web
    made: Iterator[int] = field(default_factory=itertools.count)

    def _write(self, run: Callable[..., Any]) -> Any:
        with session_scope(self.engine) as session:
            return run(session)

    def draft(self, account: str, *, due: bool = False) -> tuple[int, str]:
        """A fresh draft on `account` by its press officer: (id, revision hash); `due`: to
        publish in a minute."""
        now = self.cli.clock.now()
        at = now + MINUTE if due else None

        def run(session: Any) -> tuple[int, str]:
            author = get_person(session, AUTHOR[account])
            text = f"Matrix post {next(self.made)}."
            post = posts.create_draft(
                session,
                actor=author,
                account_handle=account,
                parts=[PartInput(text)],
                now=now,
                scheduled_at=at,
            )
            assert post.id is not None
            return post.id, posts.current_revision(session, post).content_hash

        result: tuple[int, str] = self._write(run)
        return result

    def submitted(self, account: str, *, due: bool = False) -> tuple[int, str]:
        post_id, hash_ = self.draft(account, due=due)
        self._write(
            lambda s: posts.submit(
                s, actor=get_person(s, AUTHOR[account]), post_id=post_id, now=self.cli.clock.now()
            )
        )
        return post_id, hash_

    def published(self, account: str) -> int:
        post_id, hash_ = self.submitted(account, due=True)
        self._write(
            lambda s: review.approve(
                s,
                actor=get_person(s, OPERATOR),
                post_id=post_id,
                revision_hash=hash_,
                now=self.cli.clock.now(),
            )
        )
        self.cli.clock.advance(2 * MINUTE)
        settings = self.web.client.app.state.settings  # type: ignore[attr-defined]
        assert publish_due(self.cli, settings) == 1
        return post_id

    def paused(self, account: str) -> None:
        self._write(
            lambda s: controls.pause(
                s,
                actor=get_person(s, OPERATOR),
                now=self.cli.clock.now(),
                account_handle=account,
                reason="set up",
            )
        )

    def unpause_all(self) -> None:
        with session_scope(self.engine) as session:
            for account in session.exec(select(Account).where(Account.paused)).scalars():  # type: ignore[call-overload]
                controls.resume(
                    session,
                    actor=get_person(session, OPERATOR),
                    now=self.cli.clock.now(),
                    account_handle=account.handle,
                )

    def consultation(self, *, closed: bool = False, signed: bool = False) -> int:
        """A fresh consultation on the guidance, open for comments for a minute (the one
        before it is signed off and published first: one is open at a time)."""
        with session_scope(self.engine) as session:
            before = consultation.open_consultation(session)
            earlier = None if before is None else (before.id, before.signed_off_by)
        if earlier is not None:
            self.cli.clock.advance(2 * MINUTE)
            self._finish(*earlier)
        now = self.cli.clock.now()
        opened = self._write(
            lambda s: (
                consultation.open_draft(
                    s,
                    actor=get_person(s, OPERATOR),
                    closes_at=now + MINUTE,
                    anonymous=False,
                    now=now,
                ).id
            )
        )
        if closed:
            self.cli.clock.advance(2 * MINUTE)
        if signed:
            self._sign_off(opened)
        assert isinstance(opened, int)
        return opened

    def _sign_off(self, consultation_id: int) -> None:
        self._write(
            lambda s: consultation.sign_off(
                s,
                actor=get_person(s, UNION_REP),
                consultation_id=consultation_id,
                now=self.cli.clock.now(),
            )
        )

    def _finish(self, consultation_id: int, signed_off_by: str | None) -> None:
        if signed_off_by is None:
            self._sign_off(consultation_id)
        self._write(
            lambda s: consultation.publish_consulted(
                s,
                actor=get_person(s, OPERATOR),
                consultation_id=consultation_id,
                now=self.cli.clock.now(),
            )
        )

    def comment(self, consultation_id: int) -> int:
        """A comment by the press officer on the consultation, not answered yet."""
        made = self._write(
            lambda s: (
                consultation.comment(
                    s,
                    actor=get_person(s, AUTHOR[NEWS]),
                    consultation_id=consultation_id,
                    body="Please say more about personal accounts.",
                    now=self.cli.clock.now(),
                ).id
            )
        )
        assert isinstance(made, int)
        return made

    def bulk_digest(self, csv: bytes) -> str:
        """The digest the import page gives a checked file (the save step names it)."""
        answer = self.web.post("/import", {"action": "check"}, files={"csv": ("m.csv", csv)})
        plan = getattr(answer, "context", {}).get("plan") if answer.status_code < 500 else None
        return plan.digest if plan is not None else ""


Prepare = Callable[[World, str], Call]


@dataclass(frozen=True)
class Case:
    allowed: frozenset[str]  # who may, on the account they hold rights on
    prepare: Prepare
    scoped: bool = True  # about an account: nobody may on the other one...
    changes: bool = True  # an allowed call records something
    everywhere: frozenset[str] = NOBODY  # ...but these, whose right covers every account


def on_draft(make: Callable[[int, str], Call]) -> Prepare:
    return lambda world, account: make(*world.draft(account))


def on_submitted(make: Callable[[int, str], Call]) -> Prepare:
    return lambda world, account: make(*world.submitted(account))


def on_published(make: Callable[[int], Call]) -> Prepare:
    return lambda world, account: make(world.published(account))


def bulk(world: World, account: str) -> Call:
    csv = f"account,date,time,text\n{account},2026-12-01,09:30,Bulk matrix post.\n".encode()
    form = {"action": "save", "checked": world.bulk_digest(csv)}
    return Call("/import", form=form, files={"csv": ("m.csv", csv)})


def edit_form(post_id: int, hash_: str) -> Call:
    form = {"action": "save", "expected_hash": hash_, "part-0-text": "Changed in the matrix."}
    return Call(f"/posts/{post_id}/edit", form=form)


EDIT_JSON = {"parts": [{"text": "Changed in the matrix."}]}
TEMPLATE_VALUES = {
    "service": "Self Assessment",
    "deadline": "31 January",
    "url": "https://www.gov.uk/x",
}
MATRIX: dict[tuple[str, str], Case] = {
    # Signing in and out: no account, and nothing stored.
    ("POST", "/signin/demo"): Case(
        NOBODY,  # only under `pressgate demo`
        lambda w, a: Call("/signin/demo", form={"email": "alice@example.org"}),
        scoped=False,
        changes=False,
    ),
    ("POST", "/signout"): Case(
        EVERYONE, lambda w, a: Call("/signout", form={}), scoped=False, changes=False
    ),
    # Authenticated by their own token or signature, never by the session.
    ("POST", "/a/{token}"): Case(
        NOBODY,
        lambda w, a: Call("/a/not-a-link", form={"decision": "approve"}),
        scoped=False,
        changes=False,
    ),
    ("POST", "/slack/interactions"): Case(
        NOBODY, lambda w, a: Call("/slack/interactions", form={"payload": "{}"}), scoped=False
    ),
    ("POST", "/slack/commands"): Case(
        NOBODY, lambda w, a: Call("/slack/commands", form={"command": "/pressgate"}), scoped=False
    ),
    # Store nothing.
    ("POST", "/guidance/check"): Case(
        EVERYONE, lambda w, a: Call("/guidance/check", form={"text": "Hi"}), False, False
    ),
    ("POST", "/api/v1/check"): Case(
        IN_MAP, lambda w, a: Call("/api/v1/check", json={"parts": [{"text": "Hi"}]}), False, False
    ),
    ("POST", "/api/v1/templates/{name}/render"): Case(
        IN_MAP,
        lambda w, a: Call(
            "/api/v1/templates/deadline_reminder/render", json={"values": TEMPLATE_VALUES}
        ),
        scoped=False,
        changes=False,
    ),
    # Anyone of the map, once per version (a second read changes nothing).
    ("POST", "/guidance/read"): Case(
        IN_MAP, lambda w, a: Call("/guidance/read", form={}), scoped=False, changes=False
    ),
    # The consultation on the guidance: staff comment, the union representative signs it
    # off, the policy owner (a manager of every account) answers and publishes.
    ("POST", "/guidance/consultation/comment"): Case(
        IN_MAP,
        lambda w, a: Call(
            "/guidance/consultation/comment",
            form={"consultation_id": w.consultation(), "body": "A comment."},
        ),
        scoped=False,
    ),
    ("POST", "/guidance/consultation/sign-off"): Case(
        frozenset({"approver"}),
        lambda w, a: Call(
            "/guidance/consultation/sign-off", form={"consultation_id": w.consultation()}
        ),
        scoped=False,
    ),
    ("POST", "/guidance/consultation/answer"): Case(
        frozenset({"strategy lead"}),
        lambda w, a: Call(
            "/guidance/consultation/answer",
            form={"comment_id": w.comment(w.consultation()), "text": "An answer."},
        ),
        scoped=False,
    ),
    ("POST", "/guidance/consultation/publish"): Case(
        frozenset({"strategy lead"}),
        lambda w, a: Call(
            "/guidance/consultation/publish",
            form={"consultation_id": w.consultation(closed=True, signed=True)},
        ),
        scoped=False,
    ),
    # Drafting.
    ("POST", "/posts/new"): Case(
        frozenset({"press officer"}),
        lambda w, a: Call(
            "/posts/new", form={"action": "save", "account": a, "part-0-text": "New one."}
        ),
    ),
    ("POST", "/posts/{post_id}/edit"): Case(frozenset({"press officer"}), on_draft(edit_form)),
    ("POST", "/import"): Case(frozenset({"press officer"}), bulk),
    ("POST", "/api/v1/posts"): Case(
        frozenset({"press officer"}),
        lambda w, a: Call("/api/v1/posts", json={"account": a, "parts": [{"text": "New."}]}),
    ),
    ("PATCH", "/api/v1/posts/{post_id}"): Case(
        frozenset({"press officer"}),
        on_draft(lambda p, h: Call(f"/api/v1/posts/{p}", json={**EDIT_JSON, "expected_hash": h})),
    ),
    ("POST", "/posts/{post_id:int}/schedule"): Case(
        frozenset({"press officer"}),
        on_draft(lambda p, h: Call(f"/posts/{p}/schedule", form={"when": LATER})),
    ),
    ("POST", "/api/v1/posts/{post_id}/schedule"): Case(
        frozenset({"press officer"}),
        on_draft(lambda p, h: Call(f"/api/v1/posts/{p}/schedule", json={"at": LATER})),
    ),
    ("POST", "/posts/{post_id:int}/submit"): Case(
        frozenset({"press officer"}), on_draft(lambda p, h: Call(f"/posts/{p}/submit", form={}))
    ),
    ("POST", "/api/v1/posts/{post_id}/submit"): Case(
        frozenset({"press officer"}), on_draft(lambda p, h: Call(f"/api/v1/posts/{p}/submit"))
    ),
    # Withdrawing: the author, or a manager of the account.
    ("POST", "/posts/{post_id:int}/withdraw"): Case(
        frozenset({"press officer", "strategy lead"}),
        on_draft(lambda p, h: Call(f"/posts/{p}/withdraw", form={"reason": "matrix"})),
        everywhere=frozenset({"strategy lead"}),
    ),
    ("POST", "/api/v1/posts/{post_id}/withdraw"): Case(
        frozenset({"press officer", "strategy lead"}),
        on_draft(lambda p, h: Call(f"/api/v1/posts/{p}/withdraw", json={"reason": "matrix"})),
        everywhere=frozenset({"strategy lead"}),
    ),
    # Deciding: the account's approvers, never the author.
    ("POST", "/posts/{post_id:int}/approve"): Case(
        APPROVERS,
        on_submitted(lambda p, h: Call(f"/posts/{p}/approve", form={"revision_hash": h})),
    ),
    ("POST", "/api/v1/posts/{post_id}/approve"): Case(
        APPROVERS,
        on_submitted(lambda p, h: Call(f"/api/v1/posts/{p}/approve", json={"revision_hash": h})),
    ),
    ("POST", "/posts/{post_id:int}/reject"): Case(
        APPROVERS,
        on_submitted(
            lambda p, h: Call(f"/posts/{p}/reject", form={"revision_hash": h, "reason": "no"})
        ),
    ),
    ("POST", "/api/v1/posts/{post_id}/reject"): Case(
        APPROVERS,
        on_submitted(
            lambda p, h: Call(
                f"/api/v1/posts/{p}/reject", json={"revision_hash": h, "reason": "no"}
            )
        ),
    ),
    # The brakes: the duty officer.
    ("POST", "/posts/{post_id:int}/takedown"): Case(
        frozenset({"duty officer"}),
        on_published(lambda p: Call(f"/posts/{p}/takedown", form={"reason": "matrix"})),
    ),
    ("POST", "/duty/takedown"): Case(
        frozenset({"duty officer"}),
        on_published(lambda p: Call("/duty/takedown", form={"post": str(p), "reason": "matrix"})),
    ),
    ("POST", "/api/v1/posts/{post_id}/takedown"): Case(
        frozenset({"duty officer"}),
        on_published(lambda p: Call(f"/api/v1/posts/{p}/takedown", json={"reason": "matrix"})),
    ),
    ("POST", "/duty/pause"): Case(
        frozenset({"duty officer"}),
        lambda w, a: Call("/duty/pause", form={"account": a, "reason": "matrix"}),
    ),
    ("POST", "/api/v1/pause"): Case(
        frozenset({"duty officer"}),
        lambda w, a: Call("/api/v1/pause", json={"account": a, "reason": "matrix"}),
    ),
    ("POST", "/duty/resume"): Case(
        frozenset({"duty officer"}),
        lambda w, a: (w.paused(a), Call("/duty/resume", form={"account": a}))[1],
    ),
    ("POST", "/api/v1/resume"): Case(
        frozenset({"duty officer"}),
        lambda w, a: (w.paused(a), Call("/api/v1/resume", json={"account": a}))[1],
    ),
}


def state_changing_routes(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(app.routes):
        for method in (route.methods or set()) & WRITES:
            assert route.path is not None
            found.add((method, route.path))
    return found


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    tables = SQLModel.metadata.sorted_tables
    counts = select(*[select(func.count()).select_from(t).scalar_subquery() for t in tables])
    with engine.connect() as conn:
        return (
            conn.execute(counts).one(),
            conn.execute(select(AuditHead.seq, AuditHead.hash)).all(),  # type: ignore[call-overload]
            conn.execute(
                select(Post.id, Post.state, Post.revision_no, Post.scheduled_at).order_by(Post.id)  # type: ignore[call-overload]
            ).all(),
            conn.execute(select(Account.handle, Account.paused).order_by(Account.id)).all(),  # type: ignore[call-overload]
            conn.execute(select(GlobalPause.paused)).all(),  # type: ignore[call-overload]
        )


def send(web: Web, method: str, call: Call) -> Response:
    token = web.csrf()
    if call.form is not None or call.files is not None:
        data = {"csrf_token": token, **(call.form or {})}
        return web.client.request(
            method, call.path, data=data, files=call.files, follow_redirects=False
        )
    return web.client.request(
        method, call.path, json=call.json, headers={"X-CSRF-Token": token}, follow_redirects=False
    )


def succeeded(answer: Response) -> bool:
    """Done: an answer, or a redirect to a page other than the sign-in a refusal sends to."""
    if answer.status_code >= 400:
        return False
    return not answer.headers.get("location", "").startswith("/signin?next=")


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    (tmp_path / "pressgate.toml").write_text(MAP, encoding="utf-8")
    cli = make_cli(database_url, tmp_path)
    cli.ok("init")
    cli.ok("guidance", "publish", "--as", OPERATOR)
    # Slack configured, so its routes answer what they answer in use: unsigned is refused.
    slack = SecretStr("matrix-slack-signing-secret-0123456789")
    app = create_app(web_settings(cli, sandbox=True, slack_signing_secret=slack), clock=cli.clock)
    engine = make_engine(database_url, audit_keys=cli.settings.audit_keyring())
    try:
        with TestClient(app, client=TRUSTED) as client:
            yield World(cli=cli, engine=engine, web=Web(client, cli))
    finally:
        engine.dispose()
        app.state.engine.dispose()


def test_every_state_changing_route_has_a_row_in_the_matrix(world: World) -> None:
    routes = state_changing_routes(world.web.client.app)  # type: ignore[arg-type]
    assert routes - set(MATRIX) == set(), "add these routes to the matrix"
    assert set(MATRIX) - routes == set(), "these routes are gone: drop them from the matrix"


def test_only_the_allowed_cells_succeed_and_refused_ones_change_nothing(world: World) -> None:
    wrong: list[str] = []
    for (method, route), case in MATRIX.items():
        for persona, (email, home) in PERSONAS.items():
            for account, own in ((home, True), (OTHER[home], False)):
                world.unpause_all()
                world.web.sign_in(email)
                call = case.prepare(world, account)
                anywhere = not case.scoped or persona in case.everywhere
                allowed = persona in case.allowed and (own or anywhere)
                before = snapshot(world.engine)
                answer = send(world.web, method, call)
                after = snapshot(world.engine)
                cell = f"{method} {route} as {persona} on {account} -> {answer.status_code}"
                if allowed and not succeeded(answer):
                    wrong.append(f"{cell}: should succeed ({_said(answer)})")
                elif allowed and case.changes and before == after:
                    wrong.append(f"{cell}: succeeded but recorded nothing")
                elif not allowed and succeeded(answer):
                    wrong.append(f"{cell}: should be refused")
                elif not allowed and before != after:
                    wrong.append(f"{cell}: refused but changed the database")
                if answer.status_code == 500:
                    wrong.append(f"{cell}: server error")
    assert wrong == [], "\n".join(wrong)


def _said(answer: Response) -> str:
    if answer.headers.get("content-type", "").startswith("application/"):
        return answer.text[:200]
    found = re.search(r'role="alert">([^<]*)<', answer.text)
    return found.group(1) if found else answer.headers.get("location", "")[:100]
