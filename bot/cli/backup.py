"""`pressgate backup` and `pressgate restore`: the whole database to a file and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import app_of, console, error_line, fail

FileArg = Annotated[Path, typer.Argument(help="The back-up file.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def backup(ctx: typer.Context, file: FileArg) -> None:
    """Write a consistent copy of the database to FILE while pressgate runs (SQLite's online
    backup API, or pg_dump for PostgreSQL)."""
    from bot import backup as backups

    app = app_of(ctx)
    app.engine.dispose()  # a missing SQLite file is refused here, not created
    done = backups.backup(app.settings.database_url, file)
    console.print(f"{done.kind} back-up written to {done.path}")


def restore(
    ctx: typer.Context,
    file: FileArg,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Yes, replace the whole database with the back-up."),
    ] = False,
) -> None:
    """Replace the database with the back-up FILE, then verify the audit log and record the
    restore in it. Stop every `pressgate run` first."""
    from approvals.records.restores import after_restore
    from bot import backup as backups

    if not replace:
        fail("restore replaces the whole database: stop pressgate everywhere, then add --replace")
    app = app_of(ctx)
    app.engine.dispose()
    backups.restore(app.settings.database_url, file)
    with app.session() as session:
        result = after_restore(session, source=file.name, now=app.clock.now())
    if not result.ok:
        error_line(
            f"restored, but the audit log is broken at entry {result.first_bad_seq}: "
            f"{result.problem}"
        )
        raise typer.Exit(1)
    console.print(
        f"restored from {file}; audit log intact: {result.checked} entries verified, "
        "and the restore recorded"
    )
