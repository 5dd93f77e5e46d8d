"""`pressgate guidance consult`: staff consultation on a draft of the guidance.

Each command parses, calls one function of `approvals.staff.consultation`, and prints.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from bot.cli.common import AsOpt, JsonOpt, app_of, console, fail, print_json

consult_app = typer.Typer(
    help="Consult staff on a draft of the guidance: comments, union sign-off, answers.",
    no_args_is_help=True,
)
IdArg = Annotated[int, typer.Argument(help="The consultation's number.", min=1)]
TextOpt = Annotated[str, typer.Option("--text", help="What you have to say.")]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@consult_app.command("open")
def open_(
    ctx: typer.Context,
    actor: AsOpt,
    until: Annotated[
        str, typer.Option("--until", help="Comments close at this time ('YYYY-MM-DD HH:MM').")
    ],
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="Show no names to anyone but the policy owner.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Open the guidance the map renders now as a draft for staff comments."""
    from approvals.config import DEFAULT_TIMEZONE
    from approvals.schedule import parse_local_time
    from approvals.staff import consultation

    app = app_of(ctx)
    now = app.clock.now()
    closes = parse_local_time(until, zone=DEFAULT_TIMEZONE, now=now)
    with app.session() as session:
        draft = consultation.open_draft(
            session,
            actor=app.person(session, actor),
            closes_at=closes,
            anonymous=anonymous,
            now=now,
        )
        result = {"id": draft.id, "closes_at": draft.closes_at.isoformat(), "anonymous": anonymous}
    if json_out:
        print_json(result)
    else:
        _say(f"consultation {result['id']} open for comments until {until} ({DEFAULT_TIMEZONE})")


@consult_app.command("comment")
def comment(
    ctx: typer.Context,
    consultation_id: IdArg,
    actor: AsOpt,
    text: TextOpt,
    json_out: JsonOpt = False,
) -> None:
    """Comment on the draft while it is open."""
    from approvals.staff import consultation

    app = app_of(ctx)
    with app.session() as session:
        row = consultation.comment(
            session,
            actor=app.person(session, actor),
            consultation_id=consultation_id,
            body=text,
            now=app.clock.now(),
        )
        comment_id = row.id
    if json_out:
        print_json({"comment_id": comment_id, "consultation_id": consultation_id})
    else:
        _say(f"comment {comment_id} recorded on consultation {consultation_id}")


@consult_app.command("sign-off")
def sign_off(ctx: typer.Context, consultation_id: IdArg, actor: AsOpt) -> None:
    """Sign the draft off for the trade unions (holders of the map's guidance.union_role)."""
    from approvals.staff import consultation

    app = app_of(ctx)
    with app.session() as session:
        consultation.sign_off(
            session,
            actor=app.person(session, actor),
            consultation_id=consultation_id,
            now=app.clock.now(),
        )
    _say(f"consultation {consultation_id} signed off")


@consult_app.command("answer")
def answer(
    ctx: typer.Context,
    comment_id: Annotated[int, typer.Argument(help="The comment's number.", min=1)],
    actor: AsOpt,
    text: TextOpt,
) -> None:
    """Answer a comment (the policy owner)."""
    from approvals.staff import consultation

    app = app_of(ctx)
    with app.session() as session:
        consultation.answer(
            session,
            actor=app.person(session, actor),
            comment_id=comment_id,
            text=text,
            now=app.clock.now(),
        )
    _say(f"comment {comment_id} answered")


@consult_app.command("publish")
def publish(
    ctx: typer.Context, consultation_id: IdArg, actor: AsOpt, json_out: JsonOpt = False
) -> None:
    """Publish the consulted draft as the new guidance version; staff are asked to read it."""
    from approvals.staff import consultation

    app = app_of(ctx)
    with app.session() as session:
        version = consultation.publish_consulted(
            session,
            actor=app.person(session, actor),
            consultation_id=consultation_id,
            now=app.clock.now(),
        )
        result = {
            "version_id": version.id,
            "consultation_id": version.consultation_id,
            "signed_off_by": version.signed_off_by,
            "answered_comments": version.answered_comments,
        }
    if json_out:
        print_json(result)
    else:
        _say(
            f"guidance version {result['version_id']} published from consultation {consultation_id}"
        )


@consult_app.command("show")
def show(
    ctx: typer.Context,
    actor: AsOpt,
    consultation_id: Annotated[int | None, typer.Argument(help="Default: the open one.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The draft and its comments, as you may see them (anonymous names stay hidden)."""
    from approvals.staff import consultation
    from approvals.staff.consultation import ConsultationView

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        view = consultation.consultation_view(
            session,
            viewer=app.person(session, actor),
            now=app.clock.now(),
            consultation_id=consultation_id,
        )
        figures = consultation.acknowledgements(session)
    if view is None:
        fail("no consultation is open")
    if json_out:
        from pydantic import TypeAdapter

        data: dict[str, Any] = TypeAdapter(ConsultationView).dump_python(view, mode="json")
        data["acknowledgements"] = asdict(figures)
        print_json(data)
        return
    state = "open for comments" if view.open_for_comments else "closed for comments"
    _say(f"consultation {view.id} ({state}, closes {view.closes_at:%Y-%m-%d %H:%M} UTC)")
    _say(f"signed off by: {view.signed_off_by or 'nobody yet'}")
    for c in view.comments:
        _say(f"#{c.id} {c.author}: {c.body}")
        if c.answer:
            _say(f"    answer ({c.answered_by}): {c.answer}")
    _say(
        f"guidance version {figures.version_id or '-'}: {len(figures.read)} of "
        f"{len(figures.read) + len(figures.not_read)} have acknowledged it"
    )
