"""Governance commands: tags that add approval stages, escalation, the two-person resume.

Each command parses its arguments, calls one domain function and prints the result.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import AsOpt, JsonOpt, PostArg, app_of, console, print_json

TagArg = Annotated[list[str], typer.Argument(help="Tags, e.g. pre-election or a campaign name.")]


def tag(
    ctx: typer.Context,
    post_id: PostArg,
    tags: TagArg,
    actor: AsOpt,
    remove: Annotated[
        bool, typer.Option("--remove", help="Take these tags off instead of adding them.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Tag a post before approval; a tag may add an approval stage (`map explain post:ID`)."""
    from approvals.signoff.tags import set_tags
    from approvals.summary import post_view

    app = app_of(ctx)
    with app.session() as session:
        post = set_tags(
            session,
            actor=app.person(session, actor),
            post_id=post_id,
            add=[] if remove else tags,
            remove=tags if remove else [],
            now=app.clock.now(),
        )
        view = post_view(session, post, now=app.clock.now())
    if json_out:
        print_json(
            {"post": view.id, "tags": view.tags, "stages": [s.model_dump() for s in view.stages]}
        )
        return
    console.print(f"post {view.id} tags: {', '.join(view.tags) or '-'}")
    for stage in view.stages:
        console.print(f"  {stage.name}: {stage.rule} ({stage.why}){' met' if stage.met else ''}")


def register(app: typer.Typer) -> None:
    for command in (tag,):
        app.command(command.__name__)(command)
