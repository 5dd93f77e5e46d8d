"""The images a bulk-scheduling CSV names: looked up in a given set, never on a path.

A CSV is often written by someone other than the person uploading it, so an image cell is a
file name and nothing more: `..`, a directory, an absolute path or anything outside the set
of files that came with the upload (the web) or that lie directly in the folder given with
`--images DIR` (the CLI) is refused. Each image is read once, no further than X's largest
image, and checked by the same domain function as `pressgate draft --image`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlmodel import Session

from approvals import posts
from approvals.content import images
from approvals.content.images import CheckedImage
from approvals.errors import InvalidInput
from approvals.models import MediaAsset

# X's largest file (an animated GIF, 15 MB); a still image is held to less by the check.
MAX_IMAGE_BYTES = images.MAX_FILE_BYTES
# All the images one import keeps in memory until they are saved together.
MAX_TOTAL_IMAGE_BYTES = 100_000_000


class ImageSet(Protocol):
    """Files an import may use, by name. `read` is called only with a name in `names()`."""

    def names(self) -> frozenset[str]: ...

    def read(self, name: str, limit: int) -> bytes:
        """At most `limit` bytes of the file."""
        ...


@dataclass(frozen=True)
class NoImages:
    """No images were given (the CLI without --images): every image cell is a problem."""

    def names(self) -> frozenset[str]:
        return frozenset()

    def read(self, name: str, limit: int) -> bytes:
        raise KeyError(name)


@dataclass(frozen=True)
class UploadedImages:
    """Files that came with an upload: name -> an open binary file, read from the start."""

    files: Mapping[str, BinaryIO]

    def names(self) -> frozenset[str]:
        return frozenset(self.files)

    def read(self, name: str, limit: int) -> bytes:
        stream = self.files[name]
        stream.seek(0)
        return stream.read(limit)


@dataclass(frozen=True)
class DirectoryImages:
    """The regular files directly inside `directory`; symbolic links and subdirectories are
    not in the set, so nothing outside the folder can be reached through it."""

    directory: Path
    _names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        try:
            entries = list(self.directory.iterdir())
        except OSError as exc:
            raise InvalidInput(
                f"{self.directory}: cannot list the images folder ({exc.strerror or exc})"
            ) from None
        regular = frozenset(p.name for p in entries if p.is_file() and not p.is_symlink())
        object.__setattr__(self, "_names", regular)

    def names(self) -> frozenset[str]:
        return self._names

    def read(self, name: str, limit: int) -> bytes:
        with (self.directory / name).open("rb") as stream:
            return stream.read(limit)


def refuse_path(name: str) -> str | None:
    """Why `name` is not a plain file name, or None if it is one."""
    if "\x00" in name or any(ord(c) < 32 for c in name):
        return "holds a control character"
    if name.startswith(("/", "\\", "~")) or (len(name) > 1 and name[1] == ":"):
        return "is a path: give the file name only"
    if name in (".", "..") or "/" in name or "\\" in name:
        return "is a path: give the file name only"
    return None


def image_name(file_name: str) -> str:
    """The name an uploaded file goes by: its last path component (some browsers send a
    whole path)."""
    return file_name.replace("\\", "/").rsplit("/", 1)[-1]


def check_image(name: str, data: bytes) -> CheckedImage:
    """The same check as `pressgate draft --image`: decoded by Pillow, held to X's limits."""
    return images.check_image(data, name=name)


def store_image(session: Session, image: CheckedImage, now: datetime) -> MediaAsset:
    """Keep a checked image, as `pressgate draft --image` does (once per content)."""
    return posts.store_media(session, image=image, now=now)


@dataclass
class ImageReader:
    """Reads and checks each named image once, however many rows use it; counts the bytes
    held so one import cannot fill memory."""

    images: ImageSet
    checked: dict[str, CheckedImage | str] = field(default_factory=dict)  # or the problem
    held: int = 0

    def get(self, name: str) -> CheckedImage | str:
        """The checked image, or a message saying what is wrong with it."""
        if name not in self.checked:
            self.checked[name] = self._load(name)
        return self.checked[name]

    def _load(self, name: str) -> CheckedImage | str:
        refused = refuse_path(name)
        if refused is not None:
            return f"image {name!r} {refused}"
        available = self.images.names()
        if name not in available:
            return f"image {name!r} " + _not_given(name, available)
        try:
            data = self.images.read(name, MAX_IMAGE_BYTES + 1)
        except OSError as exc:
            return f"image {name!r} cannot be read ({exc.strerror or exc})"
        try:
            image = check_image(name, data)
        except InvalidInput as exc:
            return f"image {exc}"  # the message starts with the name
        self.held += len(image.data)
        if self.held > MAX_TOTAL_IMAGE_BYTES:
            return (
                f"image {name!r}: the images of one import may hold {MAX_TOTAL_IMAGE_BYTES:,} "
                "bytes at most; split the file"
            )
        return image

    def unused(self) -> list[str]:
        return sorted(self.images.names() - set(self.checked))

    def used(self) -> Iterable[CheckedImage]:
        return (image for image in self.checked.values() if isinstance(image, CheckedImage))


def _not_given(name: str, available: frozenset[str]) -> str:
    if not available:
        return "is named, but no images were given (upload them with the file, or --images DIR)"
    same = [other for other in available if other.lower() == name.lower()]
    if same:
        return f"is not among the images given; did you mean {same[0]!r}? (case matters)"
    listed = ", ".join(sorted(available)[:5]) + (", ..." if len(available) > 5 else "")
    return f"is not among the images given ({listed})"
