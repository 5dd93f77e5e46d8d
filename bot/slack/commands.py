"""The `/pressgate` slash command: pause, resume, status, check.

    /pressgate pause @account <reason>    stop publishing on one account (or `all`)
    /pressgate resume @account            start it again (or `all`)
    /pressgate status                     what goes out next, and what is paused
    /pressgate check <text>               the content policy on a draft; nothing stored

Rights come from the map, through the same services as `pressgate pause` and the duty page
(`approvals.delivery.controls`), audited with `via: slack`. Every answer is ephemeral: only the
person who typed the command sees it.
"""

from functools import partial

from approvals.content.policy import Report, check_config
from approvals.content.post_templates import split_thread
from approvals.db import session_scope
from approvals.delivery import controls
from approvals.errors import InvalidInput
from approvals.map_store import current_map, person_on_slack
from approvals.posts import check_part_count
from approvals.status import Status, status
from bot.slack.replies import (
    OTHER_WORKSPACE,
    VIA,
    Asker,
    Reply,
    SlackContext,
    answer,
    escape,
    from_another_workspace,
    tell,
)

USAGE = (
    "*/pressgate pause @account reason* (or `all`) stops publishing until resumed; "
    "*/pressgate resume @account* (or `all`) starts it again; "
    "*/pressgate status* shows what goes out next and what is paused; "
    "*/pressgate check text* checks a draft against the content policy (lines of `---` "
    "split a thread); nothing is stored."
)
EXCERPT = 60  # characters of a post's first part shown in the status


def handle_command(ctx: SlackContext, fields: dict[str, str]) -> Reply:
    """The acknowledgement of one `/pressgate …` (empty) and the work that answers it."""
    if from_another_workspace(ctx, fields.get("team_id")):
        return Reply(ack={"response_type": "ephemeral", "text": OTHER_WORKSPACE})
    asker = Asker(
        user_id=fields.get("user_id", ""),
        response_url=fields.get("response_url"),
        channel_id=fields.get("channel_id"),
    )
    word, _, rest = fields.get("text", "").strip().partition(" ")
    run = {"pause": _pause, "resume": _resume, "status": _status, "check": _check}.get(word.lower())
    if run is None:
        opening = f"pressgate has no command `{escape(word)}`. " if word else ""
        return Reply(then=partial(tell, ctx, asker, opening + USAGE))
    return Reply(then=partial(answer, ctx, asker, partial(run, ctx, asker, rest.strip())))


def _pause(ctx: SlackContext, asker: Asker, rest: str) -> str:
    target, _, reason = rest.partition(" ")
    if not target:
        raise InvalidInput("say what to pause: /pressgate pause @account reason (or all)")
    if not reason.strip():
        raise InvalidInput(f"say why: /pressgate pause {target} <reason> (it is audited)")
    handle = None if target.lower() == "all" else target
    with session_scope(ctx.engine, via=VIA) as session:
        controls.pause(
            session,
            actor=person_on_slack(session, asker.user_id),
            now=ctx.clock.now(),
            account_handle=handle,
            reason=reason.strip(),
        )
    where = escape(handle) if handle else "every account"
    return f"Paused publishing on {where}: nothing goes out there until it is resumed."


def _resume(ctx: SlackContext, asker: Asker, rest: str) -> str:
    target = rest.split(" ", 1)[0]
    if not target:
        raise InvalidInput("say what to resume: /pressgate resume @account (or all)")
    handle = None if target.lower() == "all" else target
    with session_scope(ctx.engine, via=VIA) as session:
        done = controls.resume(
            session,
            actor=person_on_slack(session, asker.user_id),
            now=ctx.clock.now(),
            account_handle=handle,
        )
    where = escape(handle) if handle else "every account"
    if not done.lifted:
        return (
            f"Resume of {where} requested: a second person with the pause right must confirm "
            "it (/pressgate resume all) before anything is published."
        )
    return f"Resumed publishing on {where}: posts that fell due meanwhile go out in order."


def _status(ctx: SlackContext, asker: Asker, _rest: str) -> str:
    with session_scope(ctx.engine, read_only=True) as session:
        found = status(session, viewer=person_on_slack(session, asker.user_id), now=ctx.clock.now())
    return _status_text(found, ctx.settings.base_url.rstrip("/"))


def _status_text(found: Status, base_url: str) -> str:
    board = found.board
    lines: list[str] = []
    if board.everything.paused:
        lines.append(
            f"*All publishing is paused* (by {escape(board.everything.by or '?')}: "
            f"{escape(board.everything.reason or 'no reason given')})."
        )
    paused = [a for a in board.accounts if a.pause.paused]
    for account in paused:
        lines.append(
            f"*{escape(account.handle)} is paused* (by {escape(account.pause.by or '?')}: "
            f"{escape(account.pause.reason or 'no reason given')})."
        )
    for window in board.active_blackouts:
        lines.append(f"*Blackout in force:* {escape(window.name)}.")
    if not lines:
        lines.append("Publishing is running on every account; no blackout is in force.")
    lines.append("*Due next:*" if found.due else "No post has a publishing time.")
    for view in found.due:
        words = view.parts[0].text if view.parts else ""
        if len(words) > EXCERPT:
            words = words[:EXCERPT].rstrip() + "…"
        approvals = f"{len(view.approvals)} of {view.approvals_required} approvals"
        lines.append(
            f"• {view.scheduled_local} {escape(view.account)} <{base_url}/posts/{view.id}|"
            f"post {view.id}>, {view.state.replace('_', ' ')} ({approvals}): {escape(words)}"
        )
    if found.more:
        lines.append(f"…and {found.more} more: <{base_url}/calendar|the calendar>.")
    return "\n".join(lines)


def _check(ctx: SlackContext, asker: Asker, rest: str) -> str:
    """Words checked for a person of the map (nothing is stored), as on the compose page: the
    findings say which words the map blocks and that a handle is a member of staff's
    personal account, which a guest in the workspace may not probe for."""
    if not rest:
        raise InvalidInput("give the words to check: /pressgate check <text>")
    parts = split_thread(rest)
    check_part_count(len(parts))
    with session_scope(ctx.engine, read_only=True) as session:
        person_on_slack(session, asker.user_id)
        config = current_map(session).config
    return _report_text(check_config(parts, config))


def _report_text(report: Report) -> str:
    thread = len(report.lengths) > 1
    lines = [
        (f"Part {n + 1}: " if thread else "") + f"{length} of {report.max_length} characters"
        for n, length in enumerate(report.lengths)
    ]
    for finding in report.findings:
        label = "*Blocks publishing*" if finding.blocking else "*Warning*"
        where = f" (part {finding.part + 1})" if thread else ""
        lines.append(
            f"{label}{where}: {escape(finding.explanation)} “{escape(finding.excerpt)}” "
            f"`{finding.rule}`"
        )
    if not report.findings:
        lines.append("No policy findings.")
    return "\n".join(lines)
