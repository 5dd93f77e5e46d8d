"""Where pressgate's own files are: the templates, static assets and the example map.

In a source checkout (and an editable install) they live in the repository's `templates/`
and `deploy/` folders, beside the packages. A wheel cannot reach outside its packages, so
the build copies them into `approvals/_files/` with the same layout (setup.py); this module
finds whichever is there, so `pressgate` works from any folder once installed.
"""

from pathlib import Path

PACKAGED = Path(__file__).resolve().with_name("_files")
SOURCE_TREE = Path(__file__).resolve().parents[1]
# What the wheel carries, as paths relative to the repository root (setup.py copies these).
SHIPPED = ("templates", "deploy/pressgate.example.toml")


def shipped_root() -> Path:
    """The folder holding `templates/` and `deploy/`: packaged copies first."""
    return PACKAGED if PACKAGED.is_dir() else SOURCE_TREE


def shipped(relative: str) -> Path:
    """A shipped file or folder, e.g. `shipped("templates/posts")`."""
    return shipped_root() / relative
