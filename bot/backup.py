"""Back-up and restore of the whole database, while pressgate runs (back-up) or is stopped
(restore).

SQLite: the online backup API copies a consistent snapshot page by page while other
processes keep writing (a plain file copy of a WAL database can miss committed pages or
catch a half-written one). PostgreSQL: `pg_dump` in its custom format, one consistent
snapshot, restored with `pg_restore --clean` in a single transaction. Ownership and grants
are left out of the dump (`--no-owner --no-privileges`), so a dump restores into another
server or database; grant the application role again afterwards (deploy/README.md).

A back-up is written to a 0600 temporary file beside the target and renamed when complete,
so a failed back-up leaves no partial file behind. A password in the database URL reaches
`pg_dump` through its environment (PGPASSWORD), never its command line, which `ps` shows;
nothing else of pressgate's environment (its keys) is handed to the tools.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from approvals.db import sqlite_file
from approvals.errors import InvalidInput, Refused
from bot.private_files import FILE_MODE

PG_TIMEOUT = 3600.0  # seconds a pg_dump or pg_restore may take


@dataclass(frozen=True)
class Done:
    kind: str  # "sqlite" or "postgresql"
    path: Path


def backup(url: str, target: Path) -> Done:
    """Write a consistent copy of the database at `url` to `target`."""
    if target.is_dir() or not target.parent.is_dir():
        raise InvalidInput(f"{target}: give a file in an existing directory")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    os.chmod(tmp, FILE_MODE)
    try:
        kind = _backup_into(url, Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Done(kind, target)


def restore(url: str, source: Path) -> Done:
    """Replace the whole database at `url` with the back-up `source`."""
    if not source.is_file():
        raise InvalidInput(f"{source}: no such back-up file")
    path = sqlite_file(url)
    if path is not None:
        _check_sqlite_backup(source)
        _sqlite_copy(source, path)
        return Done("sqlite", source)
    _pg("pg_restore", url, "--clean", "--if-exists", "--single-transaction", str(source))
    return Done("postgresql", source)


def _backup_into(url: str, tmp: Path) -> str:
    path = sqlite_file(url)
    if path is not None:
        if not path.exists():
            raise InvalidInput(f"no database at {path} (PRESSGATE_DATABASE_URL)")
        _sqlite_copy(path, tmp)
        return "sqlite"
    if make_url(url).get_backend_name() != "postgresql":
        raise InvalidInput("back-up works on SQLite files and PostgreSQL databases only")
    _pg("pg_dump", url, "--format=custom", f"--file={tmp}")
    return "postgresql"


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent snapshot even while others write `source`."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(source: Path) -> None:
    """Refuse a file that is not a pressgate database before anything is replaced."""
    try:
        con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        finally:
            con.close()
    except sqlite3.DatabaseError:
        tables = set()
    if not {"alembic_version", "auditentry", "post"} <= tables:
        raise InvalidInput(f"{source}: not a pressgate SQLite back-up; nothing was changed")


def _pg(tool: str, url: str, *args: str) -> None:
    exe = shutil.which(tool)
    if exe is None:
        raise Refused(f"{tool} is not installed here: install the PostgreSQL client tools")
    parsed = make_url(url)
    env = {} if parsed.password is None else {"PGPASSWORD": str(parsed.password)}
    dbname = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False
    )
    result = subprocess.run(
        [exe, "--no-owner", "--no-privileges", f"--dbname={dbname}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=PG_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise Refused(f"{tool} failed: {last}")
