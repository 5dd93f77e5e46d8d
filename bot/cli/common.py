"""What every command shares: settings, the database, the acting person, and output.

Commands stay thin: parse, call one service function, render. With `--json` a command
prints exactly one JSON document on standard output; errors go to standard error with
exit status 1 (a rule refused it) or 2 (bad input).
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.clock import Clock, SystemClock
from approvals.db import make_engine, session_scope
from approvals.errors import PressgateError
from approvals.map_store import get_person
from approvals.models import Person
from bot.settings import Settings

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")]
AsOpt = Annotated[
    str,
    typer.Option(
        "--as", help="E-mail of the person acting; checked against the map.", show_default=False
    ),
]


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, audit_keys=self.settings.audit_keyring())

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work; a domain error rolls it back and ends the command with its message."""
        try:
            with session_scope(self.engine, read_only=read_only) as session:
                yield session
        except PressgateError as error:
            fail_on(error)

    def person(self, session: Session, email: str) -> Person:
        return get_person(session, email)


def app_of(ctx: typer.Context) -> App:
    obj = ctx.find_root().obj
    assert isinstance(obj, App), "the root callback sets up the App"
    return obj


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def error_line(message: str) -> None:
    """One problem, one line on standard error: never wrapped, so scripts can grep it."""
    err_console.print("[bold red]error:[/] ", end="", highlight=False)
    err_console.print(message, highlight=False, markup=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    error_line(message)
    raise typer.Exit(code)


def fail_on(error: PressgateError) -> NoReturn:
    fail(str(error), error.exit_code)
