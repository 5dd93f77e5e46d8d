"""What each recorded change tells whom in Slack: the outbox's planner.

`plan` is called by `audit.record` for every entry, in the same transaction: the notices a
change causes are written with it, or not at all, so a crash or a Slack outage can lose
none (the sender in bot/slack/sender.py delivers them later). It writes `Notice` rows:

- on submit and every resubmit: an approval request to the account's `slack_channel`, and
  a DM to each approver who may decide (with a signed review link, added by the sender);
- on an edit: older request messages are updated to say "superseded by revision N" and
  lose their buttons (those never sent are dropped instead);
- on a decision or a change of state: every request message of the post is updated (who
  decided, the state), and its author is told of approvals, rejections (with the reason),
  publication (with the link on X), failure and takedown;
- approval reminders as DMs; pause, resume and blackout start and end to the duty channel.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from approvals.config import Action, BlackoutConfig
from approvals.delivery.controls import window_utc
from approvals.map_store import current_map
from approvals.messaging import notice_blocks as nb
from approvals.messaging.slack_text import cut, escape
from approvals.models import Account, Notice, Person, Post, PostState
from approvals.post_detail import X_STATUS_URL
from approvals.posts import account_of, authors_of, current_revision, revision_parts
from approvals.records.audit import SYSTEM
from approvals.schedule import show_local
from approvals.signoff.review import quorum
from approvals.summary import post_view

REQUEST, UPDATE, NOTICE = "request", "update", "notice"
PENDING, SENT, DROPPED, FAILED = "pending", "sent", "dropped", "failed"
DUTY_QUEUE = "duty"
TEXT_LIMIT = 3000
# Moves after which a request's buttons can decide nothing more, and what the message says.
CLOSED = {
    PostState.APPROVED: "Approved",
    PostState.QUEUED: "Approved and queued",
    PostState.REJECTED: "Rejected",
    PostState.WITHDRAWN: "Withdrawn",
    PostState.DRAFT: "Back to draft",
    PostState.PUBLISHED: "Published",
    PostState.FAILED: "Publishing failed",
    PostState.TAKEN_DOWN: "Taken down",
}
MOVES = frozenset(s.value for s in PostState)
AUTHOR_TOLD = {PostState.PUBLISHED, PostState.FAILED, PostState.TAKEN_DOWN}


def plan(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    at: datetime,
    details: dict[str, Any],
) -> None:
    """Write the notices one audited change causes (none for most)."""
    if subject.startswith("post:"):
        post = session.get(Post, int(subject.removeprefix("post:")))
        if post is not None:
            _plan_for_post(session, post, actor=actor, action=action, at=at, details=details)
    elif action in ("publishing.pause", "publishing.resume"):
        where = "every account" if subject == "publishing:all" else _handle(session, subject)
        verb = "paused" if action == "publishing.pause" else "resumed"
        reason = f": {details['reason']}" if details.get("reason") else ""
        _duty(session, at, f"Publishing {verb} on {where} by {actor}{reason}")
    elif action == "map.load":
        _plan_blackouts(session, at)


def _plan_for_post(
    session: Session, post: Post, *, actor: str, action: str, at: datetime, details: dict[str, Any]
) -> None:
    name = _name(session, actor)
    if action == "post.edit":
        _supersede(session, post, at)
    elif action == "post.submitted":
        _requests(session, post, at)
    elif action == "approval.approve":
        counted = f"{details.get('counted')} of {details.get('required')} approvals count"
        _update_requests(session, post, at, f"{name} approved revision {post.revision_no}.")
        _tell_author(session, post, at, f"{name} approved revision {post.revision_no}: {counted}.")
    elif action == "approval.reject":
        _tell_author(
            session,
            post,
            at,
            f"{name} rejected revision {post.revision_no}. Their reason: {details.get('reason')}",
        )
    elif action == "post.reminder":
        _remind(session, post, at, asked=list(details.get("asked", [])), missing=details["missing"])
    elif action == "post.escalated":  # deputies, then the duty officer, asked in their turn
        _remind(
            session,
            post,
            at,
            asked=list(details.get("asked", [])),
            missing=details["missing"],
            opening=f"Escalated to you ({details.get('to', 'deputies')})",
        )
    elif action.removeprefix("post.") in MOVES and "from" in details:  # workflow.move
        state = PostState(action.removeprefix("post."))
        if state == PostState.FAILED and details.get("retryable"):
            return  # X said "later": the dispatcher tries again; only giving up is news
        if state in CLOSED:
            said = _closing_words(session, post, state, name)
            _update_requests(session, post, at, said, closes=True)
            if state in AUTHOR_TOLD:
                _tell_author(session, post, at, said)


def _requests(session: Session, post: Post, at: datetime) -> None:
    """The approval request for the current revision: the account's channel and DMs."""
    assert post.id is not None
    account = account_of(session, post)
    config = current_map(session).config.account(account.handle)
    recipients: list[tuple[str, Person | None]] = []
    if account.slack_channel:
        recipients.append((account.slack_channel, None))
    if config is not None and config.slack_dms:
        recipients.extend((p.slack_user_id or "", p) for p in _approvers_on_slack(session, post))
    if not recipients:
        return  # nobody to ask in Slack: the web's inbox shows it
    view = post_view(session, post)
    author = _name(session, view.author)
    for channel, person in recipients:
        blocks = nb.request_blocks(view, author=author, personal_link=person is not None)
        row = _add(session, post, at, REQUEST, channel, nb.request_text(view), blocks)
        if person is not None:
            row.link_for, row.revision_hash = person.id, view.revision_hash


def _approvers_on_slack(session: Session, post: Post) -> list[Person]:
    """Who may approve the post (not its authors) and has a Slack id, in map order."""
    handle = account_of(session, post).handle
    emails = current_map(session).holders(Action.APPROVE, handle)
    authors = authors_of(session, post)
    people = {
        p.email: p
        for p in session.exec(select(Person).where(col(Person.email).in_(emails))).all()
        if p.active and p.slack_user_id and p.id not in authors
    }
    return [people[e] for e in emails if e in people]


def _supersede(session: Session, post: Post, at: datetime) -> None:
    """Requests for earlier words: updated to say so, or dropped if they never went out."""
    said = f"Superseded by revision {post.revision_no}: this message decides nothing now."
    for row in _requests_of(session, post, post.revision_no - 1):
        unclaimed = row.claim_until is None or row.claim_until <= at
        if row.state == PENDING and unclaimed:
            row.state, row.last_error = DROPPED, f"superseded by revision {post.revision_no}"
            session.add(row)
        else:
            _add_update(session, post, row, at, said, closes=True)


def _update_requests(
    session: Session, post: Post, at: datetime, said: str, *, closes: bool = False
) -> None:
    requests = _requests_of(session, post, post.revision_no)
    if not requests:
        return
    status = quorum(session, post, current_map(session))
    counted = f"{len(status.approvers)} of {status.required} approvals count"
    for row in requests:
        _add_update(session, post, row, at, f"{escape(said)} {counted}.", closes=closes)


def _requests_of(session: Session, post: Post, revision: int) -> list[Notice]:
    """The request messages of one revision of the post that were not dropped."""
    query = select(Notice).where(
        Notice.post_id == post.id,
        Notice.kind == REQUEST,
        Notice.revision_no == revision,
        Notice.state != DROPPED,
    )
    return list(session.exec(query.order_by(col(Notice.id))).all())


def _add_update(
    session: Session, post: Post, request: Notice, at: datetime, status: str, *, closes: bool
) -> None:
    row = _add(session, post, at, UPDATE, request.channel, status, [])
    row.target_id, row.closes = request.id, closes


def _tell_author(session: Session, post: Post, at: datetime, said: str) -> None:
    author = session.get(Person, post.author_id)
    account = account_of(session, post)
    text = f"Your post {post.id} on {account.handle}: {said}"
    channel = author.slack_user_id if author is not None else None
    _add(session, post, at, NOTICE, channel, cut(escape(text), TEXT_LIMIT), [])


def _remind(
    session: Session,
    post: Post,
    at: datetime,
    *,
    asked: list[str],
    missing: int,
    opening: str = "Reminder",
) -> None:
    view = post_view(session, post)
    for email in asked:
        person = session.exec(select(Person).where(Person.email == email)).first()
        if person is None:
            continue
        text = (
            f"{opening}: post {post.id} on {view.account} goes out {view.scheduled_local} and "
            f"needs {missing} more approval(s)."
        )
        blocks = nb.request_blocks(view, author=_name(session, view.author), personal_link=True)
        blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}})
        row = _add(session, post, at, NOTICE, person.slack_user_id, escape(text), blocks)
        row.link_for, row.revision_hash = person.id, view.revision_hash


def _duty(session: Session, at: datetime, text: str, *, due: datetime | None = None) -> Notice:
    channel = current_map(session).config.slack.duty_channel
    return _notice(session, DUTY_QUEUE, channel, text, at, due=due)


def _notice(
    session: Session,
    queue: str,
    channel: str | None,
    text: str,
    at: datetime,
    *,
    due: datetime | None = None,
) -> Notice:
    """A notice about no one post: plain text, escaped and cut to Slack's limit."""
    row = Notice(
        kind=NOTICE,
        queue=queue,
        channel=channel,
        text=cut(escape(text), TEXT_LIMIT),
        created_at=at,
        due_at=due or at,
    )
    session.add(row)
    return row


def _plan_blackouts(session: Session, at: datetime) -> None:
    """Each window's start and end, to be told when they come (once, whatever the reloads)."""
    for window in current_map(session).config.blackouts:
        start, end = window_utc(window)
        where = "every account" if "*" in window.accounts else ", ".join(window.accounts)
        for edge, when, said in (
            (
                "start",
                start,
                f"Blackout '{window.name}' begins: nothing goes out on {where} "
                f"until {show_local(end, window.timezone)}.",
            ),
            ("end", end, f"Blackout '{window.name}' is over: publishing on {where} resumes."),
        ):
            key = blackout_key(window, edge)
            if (
                when <= at
                or session.exec(select(Notice.id).where(Notice.dedupe_key == key)).first()
            ):
                continue
            _duty(session, at, said, due=when).dedupe_key = key


def blackout_key(window: BlackoutConfig, edge: str) -> str:
    start, end = window_utc(window)
    return f"blackout:{window.name}:{start.isoformat()}:{end.isoformat()}:{edge}"


def still_wanted(session: Session, notice: Notice) -> bool:
    """A blackout notice whose window the map in force no longer has is not sent."""
    if notice.dedupe_key is None or not notice.dedupe_key.startswith("blackout:"):
        return True
    windows = current_map(session).config.blackouts
    return any(
        notice.dedupe_key in (blackout_key(w, "start"), blackout_key(w, "end")) for w in windows
    )


def _closing_words(session: Session, post: Post, state: PostState, name: str) -> str:
    said = CLOSED[state]
    if state == PostState.PUBLISHED:
        return said + _where_on_x(session, post)
    if state in (PostState.QUEUED, PostState.APPROVED):
        return f"{said}: it goes out {show_local(post.scheduled_at, post.timezone)}."
    by = "" if name == SYSTEM else f" by {name}"
    reason = f": {post.state_reason}" if post.state_reason else "."
    return said + by + reason


def _where_on_x(session: Session, post: Post) -> str:
    if post.sandbox:
        return " to the sandbox (not on X)."
    first = next(
        (
            p.x_post_id
            for p in revision_parts(session, current_revision(session, post))
            if p.x_post_id
        ),
        None,
    )
    if first is None:
        return "."
    handle = account_of(session, post).handle.lstrip("@")
    return ": " + X_STATUS_URL.format(handle=handle, id=first)


def _handle(session: Session, subject: str) -> str:
    key = subject.split(":", 1)[1]
    account = session.exec(select(Account).where(Account.key == key)).first()
    return account.handle if account is not None else "@" + key


def _name(session: Session, email: str) -> str:
    if email == SYSTEM:
        return email  # pressgate itself (the dispatcher, the reminders): nobody to look up
    person = session.exec(select(Person).where(Person.email == email)).first()
    return person.name if person is not None and person.name else email


def _add(
    session: Session,
    post: Post,
    at: datetime,
    kind: str,
    channel: str | None,
    text: str,
    blocks: list[dict[str, Any]],
) -> Notice:
    row = Notice(
        kind=kind,
        queue=f"post:{post.id}",
        post_id=post.id,
        revision_no=post.revision_no,
        channel=channel,
        text=text,
        blocks=blocks,
        created_at=at,
        due_at=at,
    )
    session.add(row)
    session.flush()  # an id now: updates planned in this transaction point at it
    return row


def tell(session: Session, *, people: list[str], topic: str, text: str, at: datetime) -> None:
    """A notice about no one post (a budget crossed, the weekly digest): a DM to each person
    with a Slack id, a log line for the others, sent in order per topic."""
    for email in people:
        person = session.exec(select(Person).where(Person.email == email)).first()
        channel = person.slack_user_id if person is not None else None
        _notice(session, f"{topic}:{email}", channel, text, at)
