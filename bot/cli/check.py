"""`pressgate check`: lint a post or thread against the content policy, before anyone sees it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from approvals.errors import Refused
from bot.cli.admin import ConfigOpt, load_or_exit
from bot.cli.common import (
    App,
    JsonOpt,
    app_of,
    console,
    domain_errors,
    fail,
    print_json,
    read_text_file,
)

if TYPE_CHECKING:
    from approvals.content.policy import Report
    from approvals.content.policy_config import PolicySource


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    ctx: typer.Context,
    text: Annotated[
        str | None,
        typer.Argument(help="The post's text (or use --file, or pipe it to standard input)."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the text from a file ('-': stdin).")
    ] = None,
    thread: Annotated[
        bool, typer.Option("--thread", help="Split the text into parts on lines of '---'.")
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print the weighted length and the policy findings; exit status 1 if any finding blocks.

    The policy is the map in force (or --config FILE). Nothing is stored.
    """
    from approvals.content.policy import check_config
    from approvals.threads import check_part_count, split_thread

    app = app_of(ctx)
    raw = _read(text, file)
    parts = split_thread(raw) if thread else [raw]
    with domain_errors():  # the same limit as a draft's, so what passes here can be drafted
        check_part_count(len(parts))
    report = check_config(parts, _policy_source(app, config))
    if json_out:
        print_json(
            {
                "ok": not report.blocking,
                "max_length": report.max_length,
                "parts": [
                    {"text": t, "weighted_length": n}
                    for t, n in zip(report.parts, report.lengths, strict=True)
                ],
                "findings": [f.__dict__ for f in report.findings],
            }
        )
    else:
        _print(report)
    if report.blocking:
        raise typer.Exit(1)


def _read(text: str | None, file: Path | None) -> str:
    """The text from the argument, --file, or (given neither) standard input when it is a
    pipe or a file, as linters read it: `pressgate check < post.txt`."""
    from approvals.threads import MAX_THREAD_CHARS

    if text is not None and file is not None:
        fail("give the text as an argument or with --file, not both")
    if text is not None:
        return text
    if file is None:
        if sys.stdin is None or sys.stdin.isatty():
            fail("no text to check: give it as an argument, with --file, or on standard input")
        file = Path("-")
    return read_text_file(file, max_chars=MAX_THREAD_CHARS)


def _policy_source(app: App, config: Path | None) -> PolicySource:
    """The map given on the command line, else the one in force, else the config file, else
    the default policy."""
    from approvals.content.policy_config import MapPolicy

    if config is not None:
        return load_or_exit(config)
    in_force = _map_in_force(app)
    if in_force is not None:
        return in_force
    if app.settings.config.exists():
        return load_or_exit(app.settings.config)
    return MapPolicy()


def _map_in_force(app: App) -> PolicySource | None:
    """The map in force, read with the database driver alone: a check is answered before
    SQLAlchemy would have loaded. None when there is no database or no map in it; a database
    that cannot be reached ends the command as any other would (one line, exit 2), rather
    than the text being judged by some other map."""
    from approvals.map_in_force import NotPlainUrl, read_policy_in_force

    try:
        return read_policy_in_force(
            app.settings.database_url, busy_timeout=app.settings.sqlite_busy_timeout
        )
    except NotPlainUrl:  # a URL of another form: SQLAlchemy reads it, or says what is wrong
        # A check must never create files: no SQLite file means no map in force to read.
        if app.missing_sqlite_file() is not None:
            return None
        return _map_in_force_by_orm(app)


def _map_in_force_by_orm(app: App) -> PolicySource | None:
    from sqlalchemy.exc import DBAPIError

    from approvals.db import session_scope
    from approvals.map_in_force import is_missing_table
    from approvals.map_store import current_map

    try:
        with session_scope(app.engine, read_only=True) as session:
            return current_map(session).config
    except Refused:  # no map loaded
        return None
    except DBAPIError as error:
        if is_missing_table(error.orig):  # not migrated yet
            return None
        raise


def _print(report: Report) -> None:
    """Plain lines; rich (for the colours) loads only when there is a finding to colour."""
    for index, length in enumerate(report.lengths):
        label = f"part {index + 1}: " if len(report.lengths) > 1 else ""
        typer.echo(f"{label}{length}/{report.max_length} characters")
    if not report.findings:
        typer.echo("no findings")
    for f in report.findings:
        where = f"part {f.part + 1} " if len(report.lengths) > 1 else ""
        colour = "red" if f.blocking else "yellow"
        console.print(
            f"[{colour}]{f.severity}[/] {f.rule} {where}at {f.start}-{f.end} ",
            end="",
            highlight=False,
        )
        console.print(
            f"{f.excerpt!r}: {f.explanation}", markup=False, highlight=False, soft_wrap=True
        )
