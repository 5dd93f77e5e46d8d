"""Installation and governance commands: init, db, map, audit."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from approvals.errors import ConfigError, NotFound, PressgateError
from approvals.files import shipped
from bot.cli.common import (
    App,
    AsOpt,
    JsonOpt,
    app_of,
    console,
    err_console,
    error_line,
    fail,
    fail_on,
    print_json,
)
from bot.private_files import make_private_dirs, private_writer

if TYPE_CHECKING:
    from approvals.config import PressgateConfig
    from approvals.permissions import PermissionMap
    from approvals.records import audit


EXAMPLE_CONFIG = shipped("deploy/pressgate.example.toml")

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
map_app = typer.Typer(help="The permission map (pressgate.toml).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $PRESSGATE_CONFIG or pressgate.toml)."
    ),
]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
    app.add_typer(map_app, name="map")
    app.add_typer(audit_app, name="audit")


def load_or_exit(path: Path) -> PressgateConfig:
    from approvals.config import load_config

    try:
        return load_config(path)
    except ConfigError as error:
        for line in error.problems:
            error_line(line)
        raise typer.Exit(2) from None


def migrate(app: App, revision: str = "head") -> None:
    """Bring the schema to `revision`; at the newest, also key an audit log written before
    the chain was keyed, so the re-keying happens now rather than at the next change."""
    from approvals.migrate import upgrade
    from approvals.records import audit

    upgrade(app.engine, revision)
    if revision != "head":
        return  # perhaps a schema without the key columns yet
    with app.session() as session:
        entry = audit.rekey(session, at=app.clock.now())
    if entry is not None:
        err_console.print(
            f"audit log re-keyed at entry {entry.seq}: entries 1-{entry.seq - 1} stay checked "
            "by their plain hashes; take an anchor now (`pressgate audit anchor`)",
            soft_wrap=True,
        )


def init(
    ctx: typer.Context,
    config: ConfigOpt = None,
    example: Annotated[
        bool, typer.Option(help="Write the example config first if the file does not exist.")
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Who replaces the map in force when the file differs from it (needs `manage`).",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create or upgrade the database and load the permission map from the config file.

    The only command that creates a database: the others refuse a SQLite file that is not
    there, so a mistyped path never becomes a new, empty database.
    The very first map is loaded as `system`; replacing the map in force needs `--as`.
    """
    from approvals.map_store import current_version, install_config

    app = app_of(ctx)
    path = config or app.settings.config
    if example and not path.exists():
        write_example_config(path)
        err_console.print(f"wrote the example config to {path}")
    loaded = load_or_exit(path)
    app.create_database()
    migrate(app)
    with app.session() as session:
        version = install_config(
            session, config=loaded, source=str(path), actor=actor, now=app.clock.now()
        )
        current = current_version(session)
    result = {
        "database": app.engine.url.render_as_string(hide_password=True),
        "config": str(path),
        "map_version": current.id if current else None,
        "map_changed": version is not None,
    }
    if json_out:
        print_json(result)
    else:
        change = "loaded" if version else "unchanged"
        console.print(f"database ready; permission map {change} (version {result['map_version']})")


def write_example_config(path: Path) -> None:
    """The example map at `path`, readable by its owner only (it names staff)."""
    make_private_dirs(path.parent)
    with private_writer(path) as out:
        out.write(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: str = "head") -> None:
    """Apply schema migrations up to REVISION (default: the newest)."""
    app = app_of(ctx)
    migrate(app, revision)
    console.print(f"database at {revision}: {app.engine.url.render_as_string(hide_password=True)}")


@map_app.command("check")
def map_check(ctx: typer.Context, config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """Validate a config file without applying it; exit status 2 and one line per problem."""
    path = config or app_of(ctx).settings.config
    loaded = load_or_exit(path)
    summary = {
        "file": str(path),
        "ok": True,
        "accounts": len(loaded.accounts),
        "roles": len(loaded.roles),
        "people": len(loaded.people),
    }
    if json_out:
        print_json(summary)
    else:
        console.print(
            f"{path}: ok ({summary['accounts']} accounts, {summary['roles']} roles, "
            f"{summary['people']} people)"
        )


@map_app.command("apply")
def map_apply(ctx: typer.Context, actor: AsOpt, config: ConfigOpt = None) -> None:
    """Make the config file the map in force; needs the `manage` right on every account."""
    from approvals.map_store import apply_config

    app = app_of(ctx)
    path = config or app.settings.config
    loaded = load_or_exit(path)
    with app.session() as session:
        version = apply_config(
            session, config=loaded, source=str(path), actor=actor.lower(), now=app.clock.now()
        )
    console.print(f"map version {version.id} in force" if version else "map unchanged")


@map_app.command("explain")
def map_explain(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="@account (who can do what on it) or an e-mail.")],
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Answer "who can approve on @account?" and "what can alice do?"."""
    from approvals.map_store import current_map
    from approvals.permissions import PermissionMap

    app = app_of(ctx)
    if config is not None:
        pmap = PermissionMap.from_config(load_or_exit(config))
    else:
        with app.session(read_only=True) as session:
            pmap = current_map(session)
    if subject.startswith("post:"):
        _explain_post(app, subject.removeprefix("post:"), json_out)
    elif subject.startswith("@"):
        _explain_account(pmap, subject, json_out)
    elif "@" in subject:
        _explain_person(pmap, subject, json_out)
    else:
        fail(
            f"{subject!r}: give an account as @handle, a person as an e-mail address "
            "or a post as post:ID"
        )


def _explain_post(app: App, post_id: str, json_out: bool) -> None:
    """The stages one post needs now (its findings and tags included) and who may sign."""
    from approvals.models import Post
    from approvals.summary import post_view

    if not post_id.isdigit():
        fail(f"post:{post_id}: a post id is a number, e.g. post:12")
    with app.session(read_only=True) as session:
        post = session.get(Post, int(post_id))
        if post is None:
            fail(f"post {post_id} does not exist")
        view = post_view(session, post, now=app.clock.now())
    if json_out:
        print_json({"post": view.id, "stages": [s.model_dump() for s in view.stages]})
        return
    console.print(
        f"post {view.id} on {view.account} ({view.state}), tags: {', '.join(view.tags) or '-'}"
    )
    from rich.table import Table  # loaded by the commands that print one

    table = Table("stage", "rule", "why", "signed", "who can sign")
    for stage in view.stages:
        signed = ", ".join(stage.signed) or "-"
        table.add_row(
            stage.name,
            stage.rule,
            stage.why,
            signed + (" (met)" if stage.met else ""),
            ", ".join(stage.eligible) or "-",
        )
    console.print(table)


def _explain_account(pmap: PermissionMap, handle: str, json_out: bool) -> None:
    from approvals.config import Action
    from approvals.signoff.stages import explain_stages

    try:
        account = pmap.account(handle)
    except NotFound as error:
        fail(str(error))
    rights = {a.value: pmap.holders(a, account.handle) for a in Action}
    stages = explain_stages(pmap, account) if account.kind == "corporate" else []
    result = {
        "account": account.handle,
        "kind": account.kind,
        "approvals_required": account.required if account.kind == "corporate" else None,
        "timezone": account.timezone,
        "rights": rights,
        "stages": [asdict(s) for s in stages],
    }
    if json_out:
        print_json(result)
        return
    if account.kind == "personal":
        console.print(f"{account.handle} is a personal account: nobody can post to it here.")
        return
    console.print(
        f"{account.handle} ({account.kind}): {account.required} approval(s) required, "
        f"times in {account.timezone}"
    )
    from rich.table import Table  # loaded by the commands that print one

    table = Table("action", "who")
    for action, people in rights.items():
        table.add_row(action, ", ".join(people) or "-")
    console.print(table)
    stage_table = Table("stage", "rule", "when", "who can sign")
    for stage in stages:
        stage_table.add_row(stage.name, stage.rule, stage.when, ", ".join(stage.eligible) or "-")
    console.print(stage_table)


def _explain_person(pmap: PermissionMap, email: str, json_out: bool) -> None:
    try:
        person = pmap.person(email)
        rights = pmap.rights_of(email)
    except NotFound as error:
        fail(str(error))
    result = {
        "email": person.email,
        "name": person.name,
        "roles": person.roles,
        "personal_handles": person.personal_handles,
        "rights": {acct: [a.value for a in acts] for acct, acts in rights.items()},
    }
    if json_out:
        print_json(result)
        return
    console.print(
        f"{person.email} ({person.name or 'no name'}): roles {', '.join(person.roles) or '-'}"
    )
    from rich.table import Table  # loaded by the commands that print one

    table = Table("account", "may")
    for acct, acts in rights.items():
        table.add_row(
            "every corporate account" if acct == "*" else acct, ", ".join(a.value for a in acts)
        )
    console.print(table)
    if person.personal_handles:
        console.print(f"personal accounts (never postable): {', '.join(person.personal_handles)}")


AnchorFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--anchor",
        help="Anchor file (`pressgate audit anchor`): also prove no anchored entry was removed "
        "or changed.",
        show_default=False,
    ),
]


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context, anchor_file: AnchorFileOpt = None, json_out: JsonOpt = False
) -> None:
    """Check the whole chain and its sealed head; exit status 1 and the first broken entry."""
    from approvals.records.audit_anchor import read_anchors, verify_with_anchors

    app = app_of(ctx)
    lines = _anchor_lines(anchor_file) if anchor_file is not None else []
    with app.session(read_only=True) as session:
        anchors = read_anchors(lines, source=str(anchor_file))
        result = verify_with_anchors(session, anchors)
    if json_out:
        print_json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "first_bad_entry": result.first_bad_seq,
                "problem": result.problem,
                "unkeyed_entries": result.unkeyed,
                "rekeyed_at": result.rekeyed_at,
                "key_ids": list(result.key_ids),
                "anchors_checked": result.anchors,
            }
        )
    elif result.ok:
        console.print(_intact(result, anchor_file), highlight=False, soft_wrap=True)
    else:
        error_line(
            f"audit log broken at entry {result.first_bad_seq}: {result.problem} "
            f"({result.checked} entries before it verified)"
        )
    if not result.ok:
        raise typer.Exit(1)


def _anchor_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        fail(f"{path}: no such anchor file")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{path}: cannot read the anchor file ({getattr(error, 'strerror', None) or error})")


def _intact(result: audit.VerifyResult, anchor_file: Path | None) -> str:
    line = f"audit log intact: {result.checked} entries verified"
    if result.unkeyed:
        line += (
            f" (1-{result.unkeyed} by plain SHA-256, written before the log was re-keyed at "
            f"entry {result.rekeyed_at}; the rest by HMAC)"
        )
    if result.key_ids:
        line += f", sealed with key {', '.join(result.key_ids)}"
    if anchor_file is not None:
        line += f"; {result.anchors} anchors in {anchor_file} hold"
    return line


@audit_app.command("anchor")
def audit_anchor(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Anchor file to append to (default: $PRESSGATE_AUDIT_ANCHOR_FILE).",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the audit head (sequence, hash, time, key id) outside the database: one JSON line
    appended to the anchor file, and the log. `audit verify --anchor FILE` checks them."""
    from bot.audit_anchors import anchor_now, anchor_sinks

    app = app_of(ctx)
    sinks = anchor_sinks(app.settings, out)
    try:
        anchor, failures = anchor_now(app.engine, sinks, app.clock)
    except PressgateError as error:
        fail_on(error)
    for failure in failures:
        error_line(failure)
    if failures:
        raise typer.Exit(2)
    path = out or app.settings.audit_anchor_file
    if json_out:
        print_json({**json.loads(anchor.to_json()), "file": str(path)})
    else:
        console.print(
            f"anchored entry {anchor.seq} (hash {anchor.hash[:16]}..., key {anchor.key_id}) "
            f"in {path}",
            highlight=False,
            soft_wrap=True,
        )


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write the audit log as JSON lines, one entry per line, hashes included."""
    from approvals.records import audit

    app = app_of(ctx)
    with app.session(read_only=True) as session:
        if output is None:
            count = audit.export_jsonl(session, sys.stdout)
        else:
            with private_writer(output) as out:  # all of the log or no file at all
                count = audit.export_jsonl(session, out)
    err_console.print(f"exported {count} audit entries")
