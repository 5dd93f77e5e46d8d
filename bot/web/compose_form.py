"""The compose form: what the browser sends, read into what the page and the domain need.

The form is the page's whole state. Without JavaScript, adding or removing a part, using a
template or checking the words re-renders the page from what was posted, so nothing typed is
lost; with JavaScript the same fields change in place. An image chosen but not saved yet
travels back in the page (base64 in a hidden field, shown as a `data:` thumbnail, which the
Content-Security-Policy's `img-src` allows), because a browser never re-fills a file input.

Field names: `part-{n}-text`; an image already attached, `part-{n}-image-{m}-{alt,sha,data,
type,name,remove}` (`sha` for a stored one, `data` for one uploaded but not saved);
an empty upload slot, `part-{n}-new-{m}-{file,alt}`. `n` orders the parts (JavaScript adds
parts with fresh numbers; the server renumbers them 0, 1, 2... when it renders).
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from approvals import posts
from approvals.content import images
from approvals.content.images import CheckedImage
from approvals.content.policy import PartToCheck
from approvals.errors import InvalidInput, PressgateError
from approvals.posts import MAX_MEDIA_PER_PART, MAX_PARTS, MediaRef, PartInput

# The largest file X takes (an animated GIF, 15 MB); the domain decides per type when the
# post is saved. This bound only stops the page reading a larger upload into memory.
MAX_UPLOAD_BYTES = 15_000_000
# Hidden fields carry unsaved images back as base64: 4/3 of the bytes, plus some room.
MAX_FIELD_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 1024
MAX_FIELDS = MAX_PARTS * 40 + 500  # a full thread's fields, and templates' variables
THUMBNAIL_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows

_PART_FIELD = re.compile(
    r"part-(?P<n>\d{1,6})-(?:(?P<text>text)|image-(?P<m>\d)-(?P<image>alt|sha|data|type|name|"
    r"remove)|new-(?P<k>\d)-(?P<new>file|alt))"
)
_TEMPLATE_FIELD = re.compile(r"tpl-(?P<name>[a-z][a-z0-9_-]{0,63})-(?P<var>[A-Za-z]\w{0,99})")


@dataclass
class ImageField:
    """An image on a part: stored already (`sha256`) or uploaded and not saved (`data`)."""

    alt: str = ""
    sha256: str | None = None
    data: bytes | None = field(default=None, repr=False)
    content_type: str = ""
    name: str = ""
    remove: bool = False
    checked: CheckedImage | None = field(default=None, repr=False)  # decoded, before saving

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data or b"").decode("ascii")

    @property
    def data_url(self) -> str | None:
        """A thumbnail for an unsaved upload; only for the image types X takes."""
        if self.data is None or self.content_type not in THUMBNAIL_TYPES:
            return None
        return f"data:{self.content_type};base64,{self.base64}"

    @property
    def label(self) -> str:
        return self.name or (f"image {self.sha256[:12]}" if self.sha256 else "image")


@dataclass
class PartField:
    text: str = ""
    images: list[ImageField] = field(default_factory=list)
    spare_alts: dict[int, str] = field(default_factory=dict)  # alt typed in an empty slot
    errors: dict[str, str] = field(default_factory=dict)  # "image-0-alt", "new-0-file" -> message

    @property
    def kept(self) -> list[ImageField]:
        return [image for image in self.images if not image.remove]

    @property
    def free_slots(self) -> list[int]:
        return list(range(max(0, MAX_MEDIA_PER_PART - len(self.images))))


@dataclass
class ComposeForm:
    account: str = ""
    at: str = ""  # local time as typed, in the account's zone
    at_was: str = ""  # the time the page showed when it was opened (edit)
    expected_hash: str = ""  # the revision the page showed when it was opened (edit)
    parts: list[PartField] = field(default_factory=lambda: [PartField()])
    action: str = "check"
    argument: str = ""  # the part of `remove_part:…`, the template of `use_template:…`
    template_values: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # "at", "account", "tpl-NAME" -> message

    def to_check(self) -> list[PartToCheck]:
        return [PartToCheck(p.text, tuple(i.alt for i in p.kept)) for p in self.parts]

    @property
    def has_words(self) -> bool:
        return any(p.text.strip() or p.kept for p in self.parts)


class FieldRefused(Exception):
    """A domain refusal that concerns one field of a part (an image, an alt text)."""

    def __init__(self, part: int, key: str, error: PressgateError) -> None:
        super().__init__(str(error))
        self.part, self.key, self.error = part, key, error


async def read_form(request: Request) -> FormData:
    """The posted form, parsed once per request (the CSRF check reads the same one) with
    room for images: Starlette's default is 1 MB for a field and 1,000 files or fields."""
    if request.method != "POST":
        return FormData()
    return await request.form(
        max_files=MAX_PARTS * MAX_MEDIA_PER_PART,
        max_fields=MAX_FIELDS,
        max_part_size=MAX_FIELD_BYTES,
    )


def parse(form: FormData) -> ComposeForm:
    """The form as posted; unreadable uploads are noted in `errors`, never dropped silently."""
    result = ComposeForm(
        account=_text(form, "account"),
        at=_text(form, "at").strip(),
        at_was=_text(form, "at_was").strip(),
        expected_hash=_text(form, "expected_hash").strip(),
    )
    action = _text(form, "action") or "check"
    result.action, _, result.argument = action.partition(":")
    parts: dict[int, PartField] = {}
    images: dict[tuple[int, int], ImageField] = {}
    uploads: dict[tuple[int, int], ImageField] = {}
    for key, value in form.multi_items():
        template = _TEMPLATE_FIELD.fullmatch(key)
        if template and isinstance(value, str):
            values = result.template_values.setdefault(template["name"], {})
            values[template["var"]] = value
            continue
        match = _PART_FIELD.fullmatch(key)
        if match is None:
            continue
        n = int(match["n"])
        part = parts.setdefault(n, PartField())
        if match["text"] and isinstance(value, str):
            part.text = value
        elif match["image"]:
            image = images.setdefault((n, int(match["m"])), ImageField())
            _set_image_field(image, match["image"], value, part)
        elif match["new"] == "alt" and isinstance(value, str):
            part.spare_alts[int(match["k"])] = value
        elif match["new"] == "file" and isinstance(value, UploadFile) and value.filename:
            upload = _read_upload(value, part)
            if upload is not None:
                uploads[(n, int(match["k"]))] = upload
    for (n, _m), image in sorted(images.items()):
        if image.sha256 or image.data is not None:
            parts[n].images.append(image)
    for (n, k), upload in sorted(uploads.items()):
        upload.alt = parts[n].spare_alts.pop(k, "")
        parts[n].images.append(upload)
    if parts:
        result.parts = [parts[n] for n in sorted(parts)]
    return result


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _set_image_field(
    image: ImageField, name: str, value: str | UploadFile, part: PartField
) -> None:
    if not isinstance(value, str):
        return
    if name == "alt":
        image.alt = value
    elif name == "sha":
        image.sha256 = value.strip().lower() or None
    elif name == "type":
        image.content_type = value
    elif name == "name":
        image.name = value
    elif name == "remove":
        image.remove = True
    elif name == "data":
        try:
            image.data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            _note(part, "new-0-file", f"{image.name or 'an image'} was garbled; choose it again")


def _read_upload(upload: UploadFile, part: PartField) -> ImageField | None:
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        limit = f"{MAX_UPLOAD_BYTES // 1_000_000} MB"
        _note(part, "new-0-file", f"{upload.filename}: larger than X takes for any image ({limit})")
        return None
    return ImageField(
        data=data, content_type=upload.content_type or "", name=upload.filename or "image"
    )


def _note(part: PartField, key: str, message: str) -> None:
    """An upload that could not be read is shown by the first empty slot, by its file name
    (the slot it came from may be taken by then)."""
    part.errors[key] = f"{part.errors[key]} {message}" if key in part.errors else message


def part_inputs(session: Session, form: ComposeForm, *, now: datetime) -> list[PartInput]:
    """The parts as the domain takes them. Unsaved images are stored through the same
    service as `pressgate draft --image`, which decides whether they are acceptable; its
    refusal is tied to the image's field. Runs in the caller's transaction: a later refusal
    stores nothing."""
    result: list[PartInput] = []
    for n, part in enumerate(form.parts):
        refs = [
            MediaRef(_stored(session, image, n, m, now), image.alt or None)
            for m, image in enumerate(part.images)
            if not image.remove
        ]
        for k, alt in part.spare_alts.items():
            if alt.strip():
                where = f"part {n + 1}" if len(form.parts) > 1 else "the post"
                error = InvalidInput(f"{where}: alt text without an image; choose the image")
                raise FieldRefused(n, f"new-{k}-alt", error)
        result.append(PartInput(part.text, refs))
    return result


def check_images(form: ComposeForm) -> None:
    """Decode every unsaved image (the check `pressgate draft --image` makes) before the
    write transaction opens: decoding is slow, and SQLite holds its lock for a writer.
    A refusal is tied to the image's field, as `FieldRefused`."""
    for n, part in enumerate(form.parts):
        for m, image in enumerate(part.images):
            if image.data is None or image.remove:
                continue
            try:
                image.checked = images.check_image(image.data, name=image.name or "the image")
            except PressgateError as error:
                raise FieldRefused(n, f"image-{m}-alt", error) from None


def _stored(session: Session, image: ImageField, part: int, position: int, now: datetime) -> str:
    if image.data is None:
        assert image.sha256 is not None
        return image.sha256
    if image.checked is None:  # `check_images` ran first; an image added since is refused
        error = InvalidInput(f"{image.name or 'an image'} was not checked; choose it again")
        raise FieldRefused(part, f"image-{position}-alt", error)
    return posts.store_media(session, image=image.checked, now=now).sha256


def local_input(instant: datetime | None, zone: str) -> str:
    """A stored UTC time as <input type="datetime-local"> shows it, in the account's zone."""
    if instant is None:
        return ""
    return instant.astimezone(ZoneInfo(zone)).strftime(INPUT_FORMAT)
