"""`pressgate templates`: list, show, add, render and delete reusable post templates.

Templates live as files under the templates directory (PRESSGATE_TEMPLATES_DIR) and in the
database; `add` stores one in the database, where it overrides a file of the same name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import AsOpt, JsonOpt, app_of, console, fail, print_json, read_text_file

if TYPE_CHECKING:
    from approvals.content.post_templates import TemplateSpec


templates_app = typer.Typer(help="Reusable post templates.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="Template name (see `pressgate templates list`).")]
VarOpt = Annotated[
    list[str] | None,
    typer.Option("--var", help="A template variable as name=value (repeat for each)."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")


def parse_vars(pairs: list[str] | None) -> dict[str, str]:
    """`--var name=value` pairs; the value may itself hold '=' (a URL's query string)."""
    values: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"--var {pair!r} is not name=value")
        if key in values:
            fail(f"--var {key} is given twice")
        values[key] = value
    return values


def _as_json(spec: TemplateSpec, *, body: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "variables": list(spec.variables),
        "source": spec.source,
        "content_hash": spec.content_hash,
    }
    if body:
        view["body"] = spec.body
    return view


@templates_app.command("list")
def list_(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Every template, with the variables it needs; a database one hides a file one."""
    from approvals.content import post_templates

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        specs = post_templates.list_templates(session, app.settings.templates_dir)
    if json_out:
        print_json([_as_json(spec, body=False) for spec in specs])
        return
    if not specs:
        console.print(f"no templates (none in {app.settings.templates_dir} nor the database)")
    for spec in specs:
        console.print(
            f"{spec.name} ({spec.source}): {spec.description}\n"
            f"  variables: {', '.join(spec.variables) or '(none)'}",
            highlight=False,
            markup=False,
        )


@templates_app.command("show")
def show(ctx: typer.Context, name: NameArg, json_out: JsonOpt = False) -> None:
    """Print a template in its file form (edit it and `templates add` it back)."""
    from approvals.content import post_templates

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        spec = post_templates.find_template(session, name, app.settings.templates_dir)
    if json_out:
        print_json(_as_json(spec, body=True))
        return
    console.print(post_templates.format_template_file(spec), highlight=False, markup=False)


@templates_app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    actor: AsOpt,
    file: Annotated[
        Path, typer.Option("--file", "-f", help="The template file ({# TOML header #} + body).")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Store a template in the database (needs `manage` on every account; audited)."""
    from approvals.content import post_templates

    app = app_of(ctx)
    # The body's limit, and room for the header.
    text = read_text_file(file, max_chars=post_templates.MAX_BODY + 4096, what="a template")
    with app.session() as session:
        spec = post_templates.parse_template_file(
            text, name=name, origin=str(file), source="database"
        )
        post_templates.save_template(
            session, actor=app.person(session, actor), spec=spec, now=app.clock.now()
        )
    if json_out:
        print_json(_as_json(spec, body=True))
        return
    console.print(f"saved template {spec.name} in the database", highlight=False, markup=False)


@templates_app.command("render")
def render(
    ctx: typer.Context, name: NameArg, var: VarOpt = None, json_out: JsonOpt = False
) -> None:
    """Preview a template with values; nothing is stored."""
    from approvals.content import post_templates

    app = app_of(ctx)
    values = parse_vars(var)
    with app.session(read_only=True) as session:
        parts = post_templates.render_template(
            session, name=name, values=values, directory=app.settings.templates_dir
        )
    if json_out:
        print_json({"name": name, "parts": parts})
        return
    for index, part in enumerate(parts):
        prefix = f"[{index + 1}/{len(parts)}] " if len(parts) > 1 else ""
        console.print(prefix + part, highlight=False, markup=False)


@templates_app.command("delete")
def delete(ctx: typer.Context, name: NameArg, actor: AsOpt) -> None:
    """Remove a database template (needs `manage`; audited). Files are removed on disk."""
    from approvals.content import post_templates

    app = app_of(ctx)
    with app.session() as session:
        post_templates.delete_template(
            session, actor=app.person(session, actor), name=name, now=app.clock.now()
        )
    console.print(f"deleted template {name} from the database", highlight=False, markup=False)
