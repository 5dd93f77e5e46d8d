"""`pressgate secrets rotate`: the stored X tokens re-encrypted under a new secret key."""

from __future__ import annotations

import typer

from approvals.errors import InvalidInput
from bot.cli.common import AsOpt, JsonOpt, app_of, console, print_json

secrets_app = typer.Typer(help="The secret key and what it protects.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")


@secrets_app.command("rotate")
def rotate(
    ctx: typer.Context,
    actor: AsOpt,
    json_out: JsonOpt = False,
) -> None:
    """Re-encrypt the stored X tokens under PRESSGATE_SECRET_KEY (the new key), opening them
    with PRESSGATE_PREVIOUS_SECRET_KEYS (a JSON list of the old ones), in one transaction."""
    from approvals.delivery.credentials import rotate_secret_key

    app = app_of(ctx)
    settings = app.settings
    settings.require_real_secret()
    new_key = settings.secret_key.get_secret_value()
    old_keys = [k.get_secret_value() for k in settings.previous_secret_keys]
    if not old_keys:
        raise InvalidInput(
            "PRESSGATE_PREVIOUS_SECRET_KEYS is not set: give the old key(s) as a JSON list, "
            "e.g. '[\"old-key\"]', and the new one as PRESSGATE_SECRET_KEY"
        )
    if new_key in old_keys:
        raise InvalidInput("PRESSGATE_SECRET_KEY is one of PRESSGATE_PREVIOUS_SECRET_KEYS")
    with app.session() as session:
        done = rotate_secret_key(
            session,
            actor=app.person(session, actor),
            old_keys=old_keys,
            new_key=new_key,
            now=app.clock.now(),
        )
    if json_out:
        print_json({"rotated": done.rotated, "already": done.already, "new_key": done.new_key})
        return
    console.print(
        f"X tokens of {len(done.rotated)} account(s) re-encrypted under key {done.new_key}"
        + (f"; {len(done.already)} already were" if done.already else "")
    )
