"""`pressgate`: the command line. Sub-commands live in modules named for what they manage."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer
from typer.main import get_command_name

from bot.cli import (
    admin,
    analytics,
    backup,
    bulk,
    check,
    governance,
    guidance,
    posts,
    publishing,
    secret_key,
    server,
    templates,
)
from bot.cli.common import App, PressgateGroup, error_line, fail_on

if TYPE_CHECKING:
    from bot.settings import Settings

app = typer.Typer(
    name="pressgate",
    help="Governed publishing for corporate X accounts.",
    cls=PressgateGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help, as other command-line tools print it: rich's boxed help loads a Markdown
    # renderer that takes longer than the rest of `pressgate --help` together.
    rich_markup_mode=None,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    if ctx.obj is None:
        # Read when a command first needs them: `pressgate --help` and `pressgate CMD
        # --help` load neither pydantic-settings nor the environment, and answer even when
        # a setting is wrong.
        ctx.obj = App(_read_settings)
        ctx.call_on_close(ctx.obj.close)


def _read_settings() -> Settings:
    """The settings from the environment, or one line per wrong one and exit status 2."""
    # pydantic and pydantic-settings load here, when a command runs: help answers without
    # them, in under half the time.
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        for err in exc.errors():
            key = "PRESSGATE_" + "_".join(str(p) for p in err["loc"]).upper()
            error_line(f"{key}: {err['msg']}")
        raise typer.Exit(2) from None
    if settings.log_level.upper() == "DEBUG":
        # Other commands than `run` keep Python's default (warnings only); DEBUG also shows
        # the traceback of an unexpected error, which otherwise is one line.
        from bot.logs import configure_logging, secrets_of  # structlog: only when asked for

        configure_logging("DEBUG", settings.log_format, secrets=secrets_of(settings))
    return settings


admin.register(app)
analytics.register(app)
backup.register(app)
bulk.register(app)
check.register(app)
governance.register(app)
guidance.register(app)
posts.register(app)
publishing.register(app)
secret_key.register(app)
server.register(app)
templates.register(app)


def only_the_command_asked_for(argv: list[str]) -> None:
    """Build only the command named on the command line: Typer turns every registered
    function into a command (reading its signature and type hints) before running one, a
    tenth of a second for all of them that `pressgate check` has no use for. With no command
    (`pressgate --help`), or a name that is no command (the error lists them), all stay."""
    name = argv[1] if len(argv) > 1 and not argv[1].startswith("-") else None
    if name is None:
        return
    commands = [
        c
        for c in app.registered_commands
        if (c.name or get_command_name(c.callback.__name__ if c.callback else "")) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if commands or groups:
        app.registered_commands, app.registered_groups = commands, groups


def main() -> None:
    only_the_command_asked_for(sys.argv)
    try:
        app()
    except Exception as error:  # the last resort, for anything raised outside a command
        try:
            fail_on(error)
        except typer.Exit as done:
            raise SystemExit(done.exit_code) from None
    finally:
        skip_the_collection_at_exit()


def skip_the_collection_at_exit() -> None:
    """Spare the process Python's last garbage collection as it exits: that pass walks every
    object the libraries made (pydantic's schemas, the compiled patterns) for memory the
    system takes back at once anyway, and took 30 of the 260 ms of `pressgate check`.
    Frozen objects are left out of it, so what only that pass would finalise is not: the
    database's connections are closed before, with the command (`App.close`); standard
    output is flushed and exit handlers run as ever."""
    import gc

    gc.freeze()
