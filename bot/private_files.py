"""Files pressgate creates are readable by their owner only, and never left half written.

The database holds unpublished words and encrypted tokens, an export holds the whole audit
log: on a shared host, other users must not read them. Every CLI command runs under the
umask `PRIVATE_UMASK` (see bot/cli/common.py), so whatever it creates (the SQLite file and
its -wal and -shm, which SQLite gives the database file's mode) is 0600 and each directory
0700; the helpers here also pass those modes explicitly, so they hold wherever they run.
"""

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(path: Path) -> None:
    """Create `path` and any missing parents, each 0700 (`mkdir(parents=True)` would give
    the parents the default mode)."""
    missing: list[Path] = []
    at = path
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE)


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 file if none is there; True if this call created it."""
    make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


@contextmanager
def private_writer(path: Path) -> Iterator[TextIO]:
    """Write `path` whole or not at all: the text goes to a 0600 temporary file beside it,
    which replaces `path` only when the block ends without an error and is removed if it
    does not. The directory must exist (a typo should not create one)."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "No such directory", str(path.parent))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
