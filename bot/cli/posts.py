"""Post commands: draft, edit, schedule, submit, approve, reject, withdraw, show, queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from approvals.errors import InvalidInput
from approvals.states import PostState
from bot.cli.common import (
    App,
    AsOpt,
    JsonOpt,
    PostArg,
    app_of,
    console,
    domain_errors,
    err_console,
    fail,
    print_json,
    read_text_file,
)
from bot.cli.templates import VarOpt, parse_vars

if TYPE_CHECKING:
    from sqlmodel import Session

    from approvals.content import images
    from approvals.posts import PartInput
    from approvals.summary import PostView


TextOpt = Annotated[
    list[str] | None,
    typer.Option("--text", "-t", help="Text of a part; repeat for a thread."),
]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        help="Read the text from a file ('-' for stdin); parts split on '---' lines.",
    ),
]
ImageOpt = Annotated[
    list[Path] | None,
    typer.Option("--image", help="Image for the first part (repeatable, up to 4)."),
]
AltOpt = Annotated[
    list[str] | None, typer.Option("--alt", help="Alt text for each --image, in the same order.")
]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="When to publish, 'YYYY-MM-DD HH:MM' in the account's time zone."),
]
RevisionOpt = Annotated[
    str | None,
    typer.Option("--revision", "-r", help="Hash (8+ characters) of the revision you reviewed."),
]


@dataclass(frozen=True)
class MediaInput:
    image: images.CheckedImage
    alt_text: str | None


def register(app: typer.Typer) -> None:
    for command in (draft, edit, schedule, submit, approve, reject, withdraw, show, queue):
        app.command(command.__name__)(command)


def _read_parts(texts: list[str] | None, file: Path | None) -> list[str]:
    from approvals import posts as post_service
    from approvals.content.post_templates import split_thread

    if texts and file:
        fail("give the text with --text or --file, not both")
    if file is not None:
        return split_thread(read_text_file(file, max_chars=post_service.MAX_THREAD_CHARS))
    if not texts:
        fail("give the post's text with --text (repeat it for a thread) or --file")
    return list(texts)


def _read_images(paths: list[Path] | None, alts: list[str] | None) -> list[MediaInput]:
    """Each image read (never more than X could take) and decoded, before the write
    transaction opens: on SQLite that transaction holds the database's one write lock."""
    from approvals.content import images

    paths, alts = paths or [], alts or []
    if len(alts) > len(paths):
        fail(f"{len(alts)} --alt given for {len(paths)} --image")
    attached: list[MediaInput] = []
    for index, path in enumerate(paths):
        try:
            with path.open("rb") as stream:
                data = stream.read(images.MAX_FILE_BYTES + 1)
        except OSError as exc:
            fail(f"{path}: cannot be read ({exc})")
        with domain_errors():
            image = images.check_image(data, name=str(path))
        attached.append(MediaInput(image, alts[index] if index < len(alts) else None))
    return attached


def _render_template(app: App, name: str, values: dict[str, str]) -> list[str]:
    """The template is looked up in a read-only transaction, which never waits for or blocks
    a writer, and rendered outside any transaction."""
    from approvals.content import post_templates

    with app.session(read_only=True) as session:
        spec = post_templates.find_template(session, name, app.settings.templates_dir)
    with domain_errors():
        return post_templates.render(spec, values)


def _build_parts(
    session: Session, texts: list[str], attached: list[MediaInput], now: datetime
) -> list[PartInput]:
    from approvals import posts as post_service
    from approvals.posts import MediaRef, PartInput

    refs = [
        MediaRef(post_service.store_media(session, image=m.image, now=now).sha256, m.alt_text)
        for m in attached
    ]
    return [PartInput(text, refs if i == 0 else []) for i, text in enumerate(texts)]


def _render(view: PostView, json_out: bool, headline: str) -> None:
    if json_out:
        print_json(view)
        return
    console.print(
        f"{headline}: post {view.id} on {view.account} is [bold]{view.state}[/] "
        f"(revision {view.revision}, {view.revision_hash[:12]}; "
        f"{len(view.approvals)}/{view.approvals_required} approvals; {view.scheduled_local})",
        highlight=False,
    )
    for finding in view.findings:
        console.print(
            f"  policy {finding['severity']}: {finding['explanation']} ({finding['excerpt']!r})",
            markup=False,
            highlight=False,
        )
    console.print(f"  publishing costs (X): {view.publish_cost}", highlight=False, markup=False)
    if view.sandbox:
        console.print("  SANDBOX: published by the sandbox publisher; it is not on X")
    if view.state_reason:
        console.print(f"  reason: {view.state_reason}", highlight=False, markup=False)
    for stray in view.strays:
        gone = "removed from X" if stray.removed_at else "still on X, being removed"
        console.print(
            f"  stray copy of part {stray.position + 1}: {stray.x_post_id} ({gone})",
            highlight=False,
        )
    for part in view.parts:
        prefix = f"  [{part.position + 1}/{len(view.parts)}] " if len(view.parts) > 1 else "  "
        console.print(prefix + part.text, highlight=False, markup=False)
        for media in part.media:
            console.print(
                f"      image {str(media['sha256'])[:12]} alt: {media['alt_text'] or '(none)'}",
                markup=False,
            )


def draft(
    ctx: typer.Context,
    actor: AsOpt,
    account: Annotated[
        str, typer.Option("--account", "-a", help="Corporate account, e.g. @DeptNews.")
    ],
    text: TextOpt = None,
    file: FileOpt = None,
    image: ImageOpt = None,
    alt: AltOpt = None,
    at: AtOpt = None,
    submit_now: Annotated[
        bool, typer.Option("--submit", help="Submit for approval at once.")
    ] = False,
    template: Annotated[
        str | None,
        typer.Option("--template", help="Write it from a post template (see `templates list`)."),
    ] = None,
    var: VarOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Draft a post or thread for a corporate account, typed or from a template."""
    from approvals import posts as post_service
    from approvals.map_store import get_account
    from approvals.schedule import parse_local_time
    from approvals.summary import post_view

    app = app_of(ctx)
    if template is not None and (text or file):
        fail("give the text with --text, --file or --template, only one of them")
    if var and template is None:
        fail("--var fills in a template's variables; name the template with --template")
    values = parse_vars(var)
    texts = _read_parts(text, file) if template is None else _render_template(app, template, values)
    attached = _read_images(image, alt)
    now = app.clock.now()
    with app.session() as session:
        person = app.person(session, actor)
        acct = get_account(session, account)
        when = parse_local_time(at, zone=acct.timezone, now=now) if at else None
        parts = _build_parts(session, texts, attached, now)
        post = post_service.create_draft(
            session, actor=person, account_handle=account, parts=parts, now=now, scheduled_at=when
        )
        assert post.id is not None
        if submit_now:
            post_service.submit(session, actor=person, post_id=post.id, now=now)
        view = post_view(session, post)
    _render(view, json_out, "drafted")


def edit(
    ctx: typer.Context,
    post_id: PostArg,
    actor: AsOpt,
    text: TextOpt = None,
    file: FileOpt = None,
    image: ImageOpt = None,
    alt: AltOpt = None,
    revision: RevisionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Replace a post's words with a new revision; earlier approvals no longer count."""
    from approvals import posts as post_service
    from approvals.summary import post_view

    app = app_of(ctx)
    texts = _read_parts(text, file)
    attached = _read_images(image, alt)
    now = app.clock.now()
    with app.session() as session:
        person = app.person(session, actor)
        parts = _build_parts(session, texts, attached, now)
        post = post_service.edit(
            session, actor=person, post_id=post_id, parts=parts, now=now, expected_hash=revision
        )
        view = post_view(session, post)
    _render(view, json_out, "edited")


def schedule(
    ctx: typer.Context,
    post_id: PostArg,
    actor: AsOpt,
    at: AtOpt = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the publishing time.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Set or clear when a post is published (approvals stand: the words are unchanged)."""
    from approvals import posts as post_service
    from approvals.models import Post
    from approvals.schedule import parse_local_time
    from approvals.summary import post_view

    if bool(at) == clear:
        fail("give either --at 'YYYY-MM-DD HH:MM' or --clear")
    app = app_of(ctx)
    now = app.clock.now()
    with app.session() as session:
        person = app.person(session, actor)
        post = session.get(Post, post_id)
        if post is None:
            raise InvalidInput(f"post {post_id} does not exist")
        when = parse_local_time(at, zone=post.timezone, now=now) if at else None
        post = post_service.schedule(session, actor=person, post_id=post_id, when=when, now=now)
        view = post_view(session, post)
    _render(view, json_out, "scheduled" if at else "unscheduled")


def submit(ctx: typer.Context, post_id: PostArg, actor: AsOpt, json_out: JsonOpt = False) -> None:
    """Send a draft to its approvers."""
    from approvals import posts as post_service
    from approvals.summary import post_view

    app = app_of(ctx)
    with app.session() as session:
        post = post_service.submit(
            session, actor=app.person(session, actor), post_id=post_id, now=app.clock.now()
        )
        view = post_view(session, post)
    _render(view, json_out, "submitted")


def approve(
    ctx: typer.Context,
    post_id: PostArg,
    actor: AsOpt,
    revision: RevisionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Approve the post's current revision (name it with --revision to be sure of the words)."""
    from approvals import posts as post_service
    from approvals.models import Post
    from approvals.signoff import review
    from approvals.summary import post_view

    app = app_of(ctx)
    with app.session() as session:
        post = session.get(Post, post_id)
        if post is None:
            raise InvalidInput(f"post {post_id} does not exist")
        revision_hash = revision or post_service.current_revision(session, post).content_hash
        review.approve(
            session,
            actor=app.person(session, actor),
            post_id=post_id,
            revision_hash=revision_hash,
            now=app.clock.now(),
        )
        view = post_view(session, post)
    _render(view, json_out, "approved")


def reject(
    ctx: typer.Context,
    post_id: PostArg,
    actor: AsOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why; the author sees this.")],
    revision: RevisionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Reject the post; it stops until its author edits and resubmits it."""
    from approvals import posts as post_service
    from approvals.models import Post
    from approvals.signoff import review
    from approvals.summary import post_view

    app = app_of(ctx)
    with app.session() as session:
        post = session.get(Post, post_id)
        if post is None:
            raise InvalidInput(f"post {post_id} does not exist")
        revision_hash = revision or post_service.current_revision(session, post).content_hash
        review.reject(
            session,
            actor=app.person(session, actor),
            post_id=post_id,
            revision_hash=revision_hash,
            reason=reason,
            now=app.clock.now(),
        )
        view = post_view(session, post)
    _render(view, json_out, "rejected")


def withdraw(
    ctx: typer.Context,
    post_id: PostArg,
    actor: AsOpt,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (optional).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Withdraw a post for good (its history stays in the audit log)."""
    from approvals import posts as post_service
    from approvals.summary import post_view

    app = app_of(ctx)
    with app.session() as session:
        post = post_service.withdraw(
            session,
            actor=app.person(session, actor),
            post_id=post_id,
            now=app.clock.now(),
            reason=reason,
        )
        view = post_view(session, post)
    _render(view, json_out, "withdrawn")


def show(ctx: typer.Context, post_id: PostArg, json_out: JsonOpt = False) -> None:
    """Show one post: its current words, state, schedule and approvals."""
    from approvals.models import Post
    from approvals.summary import post_view

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        post = session.get(Post, post_id)
        if post is None:
            raise InvalidInput(f"post {post_id} does not exist")
        view = post_view(session, post)
    _render(view, json_out, "post")


def queue(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option("--account", "-a", help="Only this account.")
    ] = None,
    state: Annotated[
        list[PostState] | None,
        typer.Option("--state", "-s", help="Only these states (repeatable)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Posts to show at most; 0 shows them all.")
    ] = 200,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """The posts in the pipeline, soonest first, with times in each account's zone.

    A page says when more posts follow (on standard error, so `--json` stays one document).
    """
    from approvals.map_store import get_account
    from approvals.summary import ACTIVE_STATES, list_posts

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        if account is not None:
            get_account(session, account)
        page = list_posts(
            session,
            account=account,
            states=frozenset(state) if state else ACTIVE_STATES,
            limit=limit or None,
            offset=offset,
        )
    views = page.posts
    if page.more:
        last = offset + len(views)
        err_console.print(
            f"showing posts {offset + 1}-{last} of {page.total}; "
            f"for the next ones: --offset {last} (or --limit 0 for all)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if json_out:
        print_json(views)
        return
    if not views:
        console.print("the queue is empty")
        return
    from rich.table import Table  # loaded by the commands that print one

    table = Table("id", "account", "state", "publish at", "approvals", "author", "text")
    for view in views:
        first = view.parts[0].text.replace("\n", " ")
        more = f" (+{len(view.parts) - 1} parts)" if len(view.parts) > 1 else ""
        table.add_row(
            str(view.id),
            view.account,
            f"{view.state} (SANDBOX)" if view.sandbox else view.state,
            view.scheduled_local,
            f"{len(view.approvals)}/{view.approvals_required}",
            view.author,
            (first[:50] + "…" if len(first) > 50 else first) + more,
        )
    console.print(table)
