"""`pressgate`: the command line. Sub-commands live in modules named for what they manage."""

import typer
from pydantic import ValidationError

from approvals.errors import PressgateError
from bot.cli import admin, check, guidance, posts, publishing, server, templates
from bot.cli.common import App, error_line
from bot.settings import Settings

app = typer.Typer(
    name="pressgate",
    help="Governed publishing for corporate X accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    if ctx.obj is None:
        try:
            ctx.obj = App(settings=Settings())
        except ValidationError as exc:
            for err in exc.errors():
                key = "PRESSGATE_" + "_".join(str(p) for p in err["loc"]).upper()
                error_line(f"{key}: {err['msg']}")
            raise typer.Exit(2) from None


admin.register(app)
check.register(app)
guidance.register(app)
posts.register(app)
publishing.register(app)
server.register(app)
templates.register(app)


def main() -> None:
    try:
        app()
    except PressgateError as error:  # a domain error that escaped a command
        error_line(str(error))
        raise SystemExit(error.exit_code) from None
