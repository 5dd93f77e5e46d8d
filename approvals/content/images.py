"""Images as X will take them, decoded when they are attached, before anyone approves.

An approver signs off what they can see, so an image is checked when it is drafted, not when
X refuses it at publish time: it must decode with Pillow as JPEG, PNG, GIF or WEBP (the file
name and the declared type count for nothing), and stay within X's limits. X's media pages
(docs.x.com, "Media best practices") give the file sizes, 5 MB for an image and 15 MB for a
GIF, and for an animated GIF at most 1280x1080, 350 frames and 300 million pixels over all
frames. They give no dimensions for still images; 8192x8192 at most and 4x4 at least are the
limits reported for X's image upload elsewhere, and they also bound the memory a decode takes
(8192x8192 RGBA is 256 MiB).

A decompression bomb (a few kilobytes of PNG that claim 30000x30000 pixels) is refused from
its header, before any pixel is allocated: the dimensions are checked between `Image.open`
(which parses the header only, and itself refuses more than Pillow's `MAX_IMAGE_PIXELS` twice
over) and `load`. JPEG is decoded at an eighth of its size (libjpeg's DCT scaling), which reads
every byte of the compressed data at a sixty-fourth of the memory.

Decoding is slow work, so callers do it before they open a write transaction (on SQLite a
write transaction holds the database's only write lock): `check_image` needs no session, and
`posts.store_media` accepts nothing but its result.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from approvals.errors import InvalidInput

MB = 1_000_000
MAX_IMAGE_BYTES = 5 * MB
MAX_GIF_BYTES = 15 * MB
# The most any image file may hold: callers read at most one byte more than this.
MAX_FILE_BYTES = max(MAX_IMAGE_BYTES, MAX_GIF_BYTES)
MAX_SIDE = 8192
MIN_SIDE = 4
MAX_GIF_SIZE = (1280, 1080)
MAX_GIF_FRAMES = 350
MAX_GIF_PIXELS = 300_000_000
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
FORMATS = ", ".join(CONTENT_TYPES)

# Past MAX_IMAGE_PIXELS (89 million) Pillow warns on stderr and goes on; past twice that it
# raises. Anything over MAX_SIDE is refused here from the header, so the warning is only noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


@dataclass(frozen=True)
class CheckedImage:
    """An image that decoded and fits X's limits; only `check_image` makes one."""

    name: str  # where it came from (a file name), for messages
    data: bytes = field(repr=False)
    sha256: str
    content_type: str
    width: int
    height: int
    frames: int  # 1 unless an animated GIF


def check_image(data: bytes, *, name: str) -> CheckedImage:
    """Decode `data` and hold it to X's limits; `InvalidInput` names `name` and the problem."""
    if not data:
        raise InvalidInput(f"{name}: the file is empty")
    if len(data) > MAX_FILE_BYTES:  # callers read one byte more than this, so no size is shown
        raise InvalidInput(f"{name}: larger than X accepts for any image ({_mb(MAX_FILE_BYTES)})")
    try:
        image = Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES))
    except Image.DecompressionBombError:
        raise InvalidInput(
            f"{name}: the image claims more pixels than X accepts "
            f"(at most {MAX_SIDE}x{MAX_SIDE}); it was not decoded"
        ) from None
    except UnidentifiedImageError:
        raise InvalidInput(f"{name}: not an image X accepts (use {FORMATS})") from None
    except (OSError, ValueError, SyntaxError) as exc:  # a header Pillow cannot make sense of
        raise InvalidInput(f"{name}: not a valid image ({exc})") from None
    with image:
        kind = str(image.format)
        width, height = image.size
        limit = MAX_GIF_BYTES if kind == "GIF" else MAX_IMAGE_BYTES
        if len(data) > limit:
            raise InvalidInput(
                f"{name}: {_mb(len(data))} is more than X accepts for {kind} ({_mb(limit)})"
            )
        _check_dimensions(name, width, height)
        frames = _decode(name, image)
    digest = hashlib.sha256(data).hexdigest()
    return CheckedImage(name, data, digest, CONTENT_TYPES[kind], width, height, frames)


def _check_dimensions(name: str, width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise InvalidInput(
            f"{name}: the image is {width}x{height} pixels; X accepts at most {MAX_SIDE}x{MAX_SIDE}"
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InvalidInput(
            f"{name}: the image is {width}x{height} pixels; X needs at least {MIN_SIDE}x{MIN_SIDE}"
        )


def _decode(name: str, image: Image.Image) -> int:
    """Decode every pixel X will show; the number of frames (1 unless an animated GIF)."""
    try:
        if image.format == "JPEG":
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
        if image.format != "GIF" or not getattr(image, "is_animated", False):
            return 1
        return _decode_frames(name, image)
    except Image.DecompressionBombError:  # a later GIF frame larger than the screen it claims
        raise InvalidInput(f"{name}: a frame claims more pixels than X accepts") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InvalidInput(f"{name}: the image data is damaged ({exc})") from None


def _decode_frames(name: str, image: Image.Image) -> int:
    """Every frame of an animated GIF, counted as it is decoded, so a GIF of a million tiny
    frames is refused at frame 351 rather than after all of them."""
    width, height = image.size
    max_width, max_height = MAX_GIF_SIZE
    if width > max_width or height > max_height:
        raise InvalidInput(
            f"{name}: an animated GIF may be at most {max_width}x{max_height} pixels on X "
            f"(this one is {width}x{height})"
        )
    frames = 1
    while True:
        try:
            image.seek(frames)
        except EOFError:
            return frames
        frames += 1
        if frames > MAX_GIF_FRAMES:
            raise InvalidInput(
                f"{name}: an animated GIF may have at most {MAX_GIF_FRAMES} frames on X"
            )
        if width * height * frames > MAX_GIF_PIXELS:
            raise InvalidInput(
                f"{name}: an animated GIF may hold at most {MAX_GIF_PIXELS:,} pixels over all "
                f"its frames on X ({width}x{height} pixels, {frames} frames and more)"
            )
        image.load()


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def is_animated(data: bytes) -> bool:
    """Whether stored image bytes are an animated GIF, from the frame headers (no pixel is
    decoded): X takes one animated GIF alone, or up to four other images."""
    with Image.open(io.BytesIO(data), formats=["GIF"]) as image:
        return bool(getattr(image, "is_animated", False))
