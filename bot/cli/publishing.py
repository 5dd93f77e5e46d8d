"""Publishing commands: pause, resume, takedown, and connecting accounts to X."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from approvals.errors import InvalidInput, Refused
from bot.cli.common import AsOpt, JsonOpt, PostArg, app_of, console, print_json

if TYPE_CHECKING:
    from approvals.delivery.credentials import XTokens


accounts_app = typer.Typer(help="Corporate accounts' connection to X.", no_args_is_help=True)
AccountArg = Annotated[str | None, typer.Argument(help="@account; omit with --all.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every account at once.")]


def register(app: typer.Typer) -> None:
    app.command("pause")(pause)
    app.command("resume")(resume)
    app.command("takedown")(takedown)
    app.add_typer(accounts_app, name="accounts")


def _target(account: str | None, everything: bool) -> str | None:
    if bool(account) == everything:
        raise InvalidInput("name one @account or give --all")
    return account


def pause(
    ctx: typer.Context,
    actor: AsOpt,
    account: AccountArg = None,
    everything: AllOpt = False,
    reason: Annotated[str | None, typer.Option(help="Why; kept in the audit log.")] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="Lift it by itself at this local time ('YYYY-MM-DD HH:MM', the account's "
            "zone; Europe/London for --all)."
        ),
    ] = None,
) -> None:
    """Stop publishing on one account or everywhere, at once, until resumed (or --until)."""
    from approvals.config import DEFAULT_TIMEZONE
    from approvals.delivery import controls
    from approvals.map_store import get_account
    from approvals.schedule import parse_local_time

    app = app_of(ctx)
    now = app.clock.now()
    with app.session() as session:
        handle = _target(account, everything)
        zone = get_account(session, handle).timezone if handle else DEFAULT_TIMEZONE
        ends = parse_local_time(until, zone=zone, now=now) if until else None
        controls.pause(
            session,
            actor=app.person(session, actor),
            now=now,
            account_handle=handle,
            reason=reason,
            until=ends,
        )
    console.print(f"paused: {handle or 'all publishing'}" + (f" until {until}" if until else ""))


def resume(
    ctx: typer.Context, actor: AsOpt, account: AccountArg = None, everything: AllOpt = False
) -> None:
    """Let publishing start again; posts that fell due meanwhile go out in order. Everything
    needs two people with the pause right: the first asks, a second confirms."""
    from approvals.delivery import controls

    app = app_of(ctx)
    with app.session() as session:
        handle = _target(account, everything)
        done = controls.resume(
            session, actor=app.person(session, actor), now=app.clock.now(), account_handle=handle
        )
    console.print(done.describe(handle or "all publishing"), soft_wrap=True)


def takedown(
    ctx: typer.Context,
    post_id: PostArg,
    actor: AsOpt,
    reason: Annotated[str, typer.Option(help="Why it comes down; kept in the audit log.")],
    json_out: JsonOpt = False,
) -> None:
    """Delete a published post (every part of a thread) from X."""
    from approvals.summary import post_view
    from bot.takedowns import take_down

    app = app_of(ctx)
    with app.session() as session:
        post = take_down(
            session,
            settings=app.settings,
            engine=app.engine,
            clock=app.clock,
            actor=app.person(session, actor),
            post_id=post_id,
            reason=reason,
        )
        view = post_view(session, post)
    if json_out:
        print_json(view)
    else:
        console.print(f"post {post_id} taken down from {view.account}")


@accounts_app.command("connect")
def connect(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="The corporate @account.")],
    actor: AsOpt,
    kind: Annotated[
        str, typer.Option("--kind", help="oauth1 (token + secret) or oauth2 (access + refresh).")
    ] = "oauth2",
    tokens_from: Annotated[
        str | None,
        typer.Option(
            "--tokens-from",
            help="'-' to read the tokens as JSON from standard input; otherwise prompted.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Store an account's X tokens, encrypted; checks with X that they are that account's.

    Tokens are never taken from the command line, where other users could see them.
    """
    from approvals.delivery import credentials
    from approvals.delivery.publisher import XError
    from approvals.map_store import get_account
    from bot.publishers import x_client
    from bot.x_spend import ledger

    app = app_of(ctx)
    settings = app.settings
    with app.session(read_only=True) as session:
        target = get_account(session, account)
        if target.kind != "corporate":
            raise Refused(f"{target.handle} is not a corporate account; it can never be connected")
    settings.require_real_secret()  # the tokens are encrypted with it
    tokens = _read_tokens(kind, tokens_from)
    on_call = ledger(engine=app.engine, clock=app.clock, account_id=target.id, via="connect")
    client = x_client(settings, tokens, x_user_id="", on_call=on_call)
    try:
        x_user_id, username = client.me()
    except XError as error:
        raise Refused(f"X did not accept the tokens: {error}") from None
    with app.session() as session:
        credentials.connect(
            session,
            actor=app.person(session, actor),
            account_handle=account,
            tokens=tokens,
            x_user_id=x_user_id,
            x_username=username,
            secret_key=settings.secret_key.get_secret_value(),
            now=app.clock.now(),
        )
    result = {"account": target.handle, "x_user_id": x_user_id, "kind": tokens.kind}
    if json_out:
        print_json(result)
    else:
        console.print(f"{target.handle} connected to X as @{username} ({tokens.kind})")


def _read_tokens(kind: str, source: str | None) -> XTokens:
    from approvals.delivery.credentials import XTokens

    if source == "-":
        try:
            raw = json.loads(sys.stdin.read())
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"standard input: not JSON ({exc.msg} at line {exc.lineno})"
            ) from None
        if not isinstance(raw, dict):
            raise InvalidInput("standard input: expected a JSON object of tokens")
        allowed = {"access_token", "access_token_secret", "refresh_token"}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise InvalidInput(f"standard input: unknown keys {', '.join(unknown)}")
        return XTokens(kind=kind, **{k: str(v) for k, v in raw.items()})
    if source is not None:
        raise InvalidInput("--tokens-from takes '-' (standard input) only")
    access = typer.prompt("access token", hide_input=True)
    if kind == "oauth1":
        secret = typer.prompt("access token secret", hide_input=True)
        return XTokens(kind=kind, access_token=access, access_token_secret=secret)
    refresh = typer.prompt("refresh token", hide_input=True)
    return XTokens(kind=kind, access_token=access, refresh_token=refresh)
