"""`pressgate guidance`: the personal-use guidance, its self-check, and who has read it.

The self-check is the one command whose findings never change the exit status: it is
advice for a member of staff about their own account, not a gate, so a script that runs it
must not read "found something" as "failed".
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import AsOpt, JsonOpt, app_of, console, fail, print_json
from bot.cli.consultation import consult_app

if TYPE_CHECKING:
    from approvals.content.findings import Finding
    from approvals.models import GuidanceVersion


guidance_app = typer.Typer(
    help="Personal-use guidance for staff: read it, check a personal post, record reading.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    guidance_app.add_typer(consult_app, name="consult")
    app.add_typer(guidance_app, name="guidance")


def _version_json(version: GuidanceVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "id": version.id,
        "content_hash": version.content_hash,
        "published_by": version.published_by,
        "published_at": version.published_at.isoformat(),
    }


def _say(text: str) -> None:
    """Print text that came from a person or the config exactly, never as Rich markup."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@guidance_app.command("show")
def show(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Show the current guidance, or the draft from the map if none is published yet."""
    from approvals.staff import guidance

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        view = guidance.current_guidance(session)
    if json_out:
        print_json(
            {
                "published": view.version is not None,
                "version": _version_json(view.version),
                "up_to_date": view.up_to_date,
                "text": view.text,
            }
        )
        return
    if view.version is None:
        _say("(not yet published: this is the draft the permission map renders)\n")
    elif not view.up_to_date:
        _say(
            f"(version {view.version.id}; the map now says something else: "
            "`pressgate guidance publish` puts the new text up)\n"
        )
    _say(view.text.rstrip("\n"))


@guidance_app.command("check")
def check(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The draft of your personal post.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Read the draft from a file, or - for standard input."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a draft of a personal post against the guidance.

    Advisory only: the draft is not stored and nothing is posted. The exit status is 0
    whatever is found (2 only if no draft was given).
    """
    from approvals.map_store import current_map
    from approvals.staff.self_check import self_check

    draft = _draft_from(text, file)
    app = app_of(ctx)
    with app.session(read_only=True) as session:
        config = current_map(session).config
    findings = self_check(draft, config)
    if json_out:
        print_json(
            {"advisory": True, "stored": False, "findings": [_finding_json(f) for f in findings]}
        )
        return
    if not findings:
        _say("Nothing found. The check is advisory: read the guidance and use your judgement.")
        return
    _say(f"{len(findings)} thing(s) to look at before you post (advisory; nothing was stored):")
    for finding in findings:
        _say(f"- {finding.rule} [{finding.start}:{finding.end}] {finding.excerpt!r}")
        _say(f"  {finding.explanation}")


def _draft_from(text: str | None, file: Path | None) -> str:
    if text is not None and file is not None:
        fail("give the draft either as TEXT or with --file, not both")
    if file is not None:
        if str(file) == "-":
            return sys.stdin.read()
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{file}: cannot be read ({exc})")
    if text is None:
        fail("give the draft as TEXT, or with --file (- for standard input)")
    return text


def _finding_json(finding: Finding) -> dict[str, Any]:
    result = asdict(finding)
    del result["part"]  # a personal post is one text, not a thread
    return result


@guidance_app.command("publish")
def publish(ctx: typer.Context, actor: AsOpt, json_out: JsonOpt = False) -> None:
    """Publish the guidance as the map in force renders it; needs `manage` on every account."""
    from approvals.staff import guidance

    app = app_of(ctx)
    with app.session() as session:
        person = app.person(session, actor)
        version = guidance.publish(session, actor=person, now=app.clock.now())
        current = guidance.current_version(session)
    if json_out:
        print_json({"changed": version is not None, "version": _version_json(current)})
    elif version is not None:
        _say(f"guidance version {version.id} published")
    else:
        _say(f"guidance unchanged; version {current.id if current else '-'} is current")


@guidance_app.command("read")
def read(ctx: typer.Context, actor: AsOpt, json_out: JsonOpt = False) -> None:
    """Record that you have read the current version of the guidance."""
    from approvals.staff import guidance

    app = app_of(ctx)
    with app.session() as session:
        person = app.person(session, actor)
        record = guidance.record_read(session, person=person, now=app.clock.now())
    if json_out:
        print_json(
            {
                "email": person.email,
                "version_id": record.version_id,
                "read_at": record.read_at.isoformat(),
            }
        )
    else:
        _say(f"{person.email}: read guidance version {record.version_id}")


@guidance_app.command("status")
def status(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Who in the permission map has read the current version of the guidance."""
    from approvals.staff import guidance

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        version = guidance.current_version(session)
        people = guidance.read_status(session)
    if json_out:
        print_json({"version": _version_json(version), "people": [p._asdict() for p in people]})
        return
    if version is None:
        _say("no guidance has been published yet")
    from rich.table import Table  # loaded by the commands that print one

    table = Table("person", "read the current version")
    for person in people:
        table.add_row(person.email, "yes" if person.read_current else "no")
    console.print(table)
