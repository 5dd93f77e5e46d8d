"""What every command shares: settings, the database, the acting person, and output.

Commands stay thin: parse, call one service function, render. With `--json` a command
prints exactly one JSON document on standard output; errors go to standard error as one
line, with exit status 1 (refused: a rule said no, or the database was busy), 2 (bad input
or configuration) or 3 (an unexpected error: a bug, whose traceback is logged at DEBUG).
Whatever goes wrong, `PressgateGroup` and `fail_on` below turn it into that one line: no
command ever shows a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._click import Context
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    NoArgsIsHelpError,
    UsageError,
)
from typer.core import TyperGroup

from approvals.clock import Clock, SystemClock
from approvals.errors import InvalidInput, PressgateError
from bot.private_files import PRIVATE_UMASK, create_private_file

# The database layer (SQLAlchemy, SQLModel, Alembic) is imported where it is used, never at
# start: `pressgate --help` and `pressgate check` answer without it (tests/bot/
# test_cli_imports.py holds every command module to that).
if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import URL, Engine
    from sqlmodel import Session

    from approvals.models import Person
    from bot.settings import Settings


class _ConsoleOnFirstUse:
    """rich's Console, made when something is first printed through it: importing rich
    takes about 25 ms, which `pressgate check` of a text with no finding has no use for."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return getattr(self._console, name)


if TYPE_CHECKING:  # to the type checker, and to every caller, they are Consoles
    console: Console
    err_console: Console
else:
    console = _ConsoleOnFirstUse(stderr=False)
    err_console = _ConsoleOnFirstUse(stderr=True)
log = logging.getLogger("pressgate.cli")
UNEXPECTED_EXIT = 3

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")]
AsOpt = Annotated[
    str,
    typer.Option(
        "--as", help="E-mail of the person acting; checked against the map.", show_default=False
    ),
]


@dataclass
class App:
    """What a command works with. The settings are read when a command first asks for them,
    so `pressgate CMD --help` reads none: help answers at once, even when a setting is
    wrong (the command itself then says which)."""

    read_settings: Callable[[], Settings]
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def of(cls, settings: Settings, clock: Clock | None = None) -> App:
        return cls(lambda: settings, clock or SystemClock())

    @cached_property
    def settings(self) -> Settings:
        return self.read_settings()

    def settings_if_read(self) -> Settings | None:
        return self.__dict__.get("settings")

    @cached_property
    def engine(self) -> Engine:
        """The database; a SQLite file must already exist (only `init` and `demo` make one,
        so a mistyped path is an error, not a new empty database)."""
        from sqlalchemy.exc import ArgumentError

        from approvals.db import make_engine

        path = self.missing_sqlite_file()
        if path is not None:
            raise InvalidInput(
                f"no database at {path} (PRESSGATE_DATABASE_URL): create it with "
                "`pressgate init`, or correct the path"
            )
        try:
            return make_engine(
                self.settings.database_url,
                busy_timeout=self.settings.sqlite_busy_timeout,
                audit_keys=self.settings.audit_keyring(),
                # A worker works on two accounts per call to X it may have out, each with a
                # connection, beside its sender, collector and the web app's requests.
                max_overflow=2 * self.settings.dispatch_concurrency + 10,
            )
        except (ArgumentError, ImportError, ValueError):  # ValueError: a port not a number
            raise InvalidInput(BAD_DATABASE_URL) from None

    def close(self) -> None:
        """Close the database's connections as the command ends, so a SQLite file is left
        whole (its write-ahead log folded back in), whatever else is left to Python's exit."""
        engine = self.__dict__.get("engine")
        if engine is not None:
            engine.dispose()

    def create_database(self) -> None:
        """Make the SQLite file if it is missing, 0600 in 0700 directories (`init`, `demo`)."""
        path = self.missing_sqlite_file()
        if path is not None:
            create_private_file(path)

    def missing_sqlite_file(self) -> Path | None:
        """The SQLite file the database URL names, if it is not there."""
        from approvals.db_files import sqlite_file

        try:
            path = sqlite_file(self.settings.database_url)
        except Exception as error:
            from sqlalchemy.exc import ArgumentError  # only SQLAlchemy parses an odd URL

            if isinstance(error, (ArgumentError, ValueError)):  # ValueError: a port not a number
                raise InvalidInput(BAD_DATABASE_URL) from None
            raise
        return path if path is not None and not path.exists() else None

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work; a domain error rolls it back and ends the command with its message."""
        from approvals.db import session_scope

        try:
            with session_scope(self.engine, read_only=read_only, via="cli") as session:
                yield session
        except PressgateError as error:
            fail_on(error, self.settings)

    def person(self, session: Session, email: str) -> Person:
        from approvals.map_store import get_person

        return get_person(session, email)


@contextmanager
def domain_errors() -> Iterator[None]:
    """For work done outside a session (decoding images, rendering a template, which happen
    before the write transaction opens): a domain error ends the command as in `session`."""
    try:
        yield
    except PressgateError as error:
        fail_on(error)


def read_text_file(file: Path, *, max_chars: int, what: str = "a thread") -> str:
    """A UTF-8 text file ('-' for standard input), never read past `max_chars` characters:
    what pressgate reads is short, and a mistyped path to a large file must not fill memory."""
    try:
        if str(file) == "-":
            text = sys.stdin.read(max_chars + 1)
        else:
            with file.open(encoding="utf-8") as stream:
                text = stream.read(max_chars + 1)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: cannot be read ({exc})")
    if len(text) > max_chars:
        fail(f"{file}: longer than {what} may be ({max_chars:,} characters)")
    return text


def app_of(ctx: typer.Context) -> App:
    obj = ctx.find_root().obj
    assert isinstance(obj, App), "the root callback sets up the App"
    return obj


def to_jsonable(value: Any) -> Any:
    from pydantic import BaseModel

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


BAD_DATABASE_URL = (
    "PRESSGATE_DATABASE_URL is not a database URL pressgate can use: give "
    "sqlite:///path/to/pressgate.db or postgresql+psycopg://user@host:5432/database"
)


def _post_id(value: str) -> int:
    """A post id as the database can hold it; anything else is refused before a query."""
    from approvals.db import MAX_ID

    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ID:
        raise typer.BadParameter(
            f"{value!r} is not a post id: ids are whole numbers from 1 to {MAX_ID}; "
            "`pressgate queue` lists them"
        )
    return number


PostArg = Annotated[
    int, typer.Argument(parser=_post_id, metavar="POST_ID", help="Post id (see `pressgate queue`).")
]


def fail_on(error: BaseException, settings: Settings | None = None) -> NoReturn:
    """End the command on `error` with one line: a domain error's own message, a plain
    explanation of a database, file or encoding problem, or for anything else (a bug) its
    class, with the traceback logged at DEBUG."""
    if isinstance(error, PressgateError):
        fail(str(error), error.exit_code)
    explained = explain(error, settings)
    if explained is not None:
        fail(*explained)
    log.debug("unexpected error", exc_info=error)
    fail(
        f"unexpected {type(error).__name__}; this is a bug in pressgate: run the command "
        "again with PRESSGATE_LOG_LEVEL=DEBUG to see where it happened",
        UNEXPECTED_EXIT,
    )


def explain(error: BaseException, settings: Settings | None) -> tuple[str, int] | None:
    """What an infrastructure error means for the person at the keyboard, and the exit
    status; None if it is not one we know."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from approvals.map_in_force import DatabaseUnreadable
    from approvals.migrate import known_revisions

    if isinstance(error, DBAPIError):
        return _explain_database(error.orig, settings, connecting=error.statement is None)
    if isinstance(error, DatabaseUnreadable):  # read with the driver alone (`check`)
        return _explain_database(error.driver_error, settings, connecting=error.connecting)
    if isinstance(error, CommandError):  # Alembic: an unknown revision, a gap in the chain
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return (
            f"database migration: {first}; this pressgate knows revisions "
            f"{', '.join(known_revisions())} (leave out --revision for the newest)",
            2,
        )
    if isinstance(error, UnicodeError):
        return (
            "some text is not valid UTF-8 (pressgate reads and writes UTF-8 only): check the "
            "encoding of the terminal, the file or the environment",
            2,
        )
    if isinstance(error, IsADirectoryError) and error.filename:
        return f"{error.filename} is a directory: name a file to write", 2
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or type(error).__name__}", 2
    return None


def _explain_database(
    orig: BaseException | None, settings: Settings | None, *, connecting: bool
) -> tuple[str, int] | None:
    """`orig` is the driver's error; `connecting`: it came before any statement ran."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url) if settings else None
    where = url.render_as_string(hide_password=True) if url else "the database"
    message = str(orig).splitlines()[0] if str(orig) else ""
    code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None) or ""
    if code in ("SQLITE_BUSY", "SQLITE_LOCKED", "55P03"):
        waited = f" for {settings.sqlite_busy_timeout:g} s" if settings else ""
        return (
            f"the database is busy: another process held its lock{waited}; try again "
            "(PRESSGATE_SQLITE_BUSY_TIMEOUT sets how long to wait)",
            1,
        )
    if code == "SQLITE_NOTADB":
        return (
            f"{url.database if url else where} is not a SQLite database: "
            "check PRESSGATE_DATABASE_URL",
            2,
        )
    if code in ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM"):
        return (
            f"cannot use the SQLite database {url.database if url else where} ({message}): "
            "check the file, its directory and their permissions",
            2,
        )
    if code == "42P01" or message.startswith("no such table"):
        return (
            f"the database {where} is not set up for pressgate yet: run `pressgate init` "
            "(or `pressgate db upgrade`)",
            2,
        )
    if code == "42703" or message.startswith("no such column"):
        return (
            f"the database {where} has an older schema than this pressgate: run "
            "`pressgate db upgrade`",
            2,
        )
    if connecting and url is not None and url.get_backend_name() == "postgresql":
        return _unreachable(url, str(orig)), 2
    return None


# libpq's words for a server that is not there (as opposed to one that says no).
_SERVER_DOWN = (
    "refused",
    "timeout",
    "timed out",
    "no route",
    "resolve",
    "translate host",
    "unreachable",
    "no such file",
)


def _unreachable(url: URL, message: str) -> str:
    """The server, why the connection failed (libpq's reason, never the password)."""
    server = f"{url.host or 'localhost'}:{url.port or 5432}"
    first = message.splitlines()[0] if message else "no reason given"
    reason = first.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
    if url.password:
        reason = reason.replace(url.password, "***")
    if any(word in reason.lower() for word in _SERVER_DOWN):
        return (
            f"PostgreSQL at {server} is down or unreachable ({reason}): start it, or correct "
            "the host and port in PRESSGATE_DATABASE_URL"
        )
    return (
        f"PostgreSQL at {server} refused the connection ({reason}): check the user, password "
        "and database in PRESSGATE_DATABASE_URL"
    )


def refuse_undecodable(args: Sequence[str]) -> None:
    """Arguments arrive as bytes; Python keeps bytes that are not UTF-8 as lone surrogates,
    which no database or hash accepts. Refuse them here, naming the option (file names too:
    a path is recorded as text, in the audit log for one)."""
    for index, arg in enumerate(args):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if arg.startswith("--") and "=" in arg:
                name = arg.split("=", 1)[0]
            elif index > 0 and args[index - 1].startswith("-"):
                name = args[index - 1]
            else:
                name = f"argument {index + 1}"
            fail(
                f"{name} is not valid UTF-8 text: give it in UTF-8 (check the terminal's or "
                "the script's encoding, e.g. LANG=C.UTF-8)"
            )


class PressgateGroup(TyperGroup):
    """The root command: UTF-8 arguments only, files created private (umask 077), and every
    error, usage errors included, reported as one line."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        refuse_undecodable(args)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise
        except UsageError as error:  # an option of `pressgate` itself
            fail_usage(error, info_name or "pressgate")

    def invoke(self, ctx: Context) -> Any:
        previous = os.umask(PRIVATE_UMASK)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, NoArgsIsHelpError):
            raise
        except UsageError as error:
            fail_usage(error, " ".join(filter(None, [ctx.command_path, ctx.invoked_subcommand])))
        except ClickException:
            raise
        except Exception as error:
            app = ctx.obj if isinstance(ctx.obj, App) else None
            fail_on(error, app.settings_if_read() if app else None)
        finally:
            os.umask(previous)


def fail_usage(error: UsageError, command: str) -> NoReturn:
    """A mistyped command line, as one line; a bad value's message already says what fits."""
    if isinstance(error, BadParameter):
        fail(error.format_message(), error.exit_code)
    where = error.ctx.command_path if error.ctx else command
    fail(f"{error.format_message()} (see `{where} --help`)", error.exit_code)
