"""Files for bulk-scheduling tests, made on the fly: CSVs as a spreadsheet writes them, and a
real PNG (stdlib only), so no binary is committed."""

import csv
import io
import struct
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HEADER = ("account", "date", "time", "text", "image", "alt_text", "template", "vars", "campaign")
LONDON = ZoneInfo("Europe/London")


def png(width: int = 8, height: int = 8, shade: int = 0) -> bytes:
    """A valid greyscale PNG; `shade` makes images of the same size differ."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\0" + bytes([shade % 256]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def csv_bytes(
    rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER, *, bom: bool = False
) -> bytes:
    """A CSV as Excel's "CSV UTF-8" writes it: CRLF line ends, quotes only where needed."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def local_day(now: datetime, days: int) -> str:
    """The date `days` after `now`, in London: a date certainly in the future."""
    return (now.astimezone(LONDON) + timedelta(days=days)).strftime("%Y-%m-%d")


def row(
    account: str = "@DeptNews",
    date: str = "2027-01-05",
    time: str = "09:30",
    text: str = "Our annual report is out today.",
    image: str = "",
    alt_text: str = "",
    template: str = "",
    vars: str = "",
    campaign: str = "",
) -> list[str]:
    return [account, date, time, text, image, alt_text, template, vars, campaign]


REMINDER = {
    "text": "",
    "template": "deadline_reminder",
    "vars": "service=Self Assessment;deadline=31 January;"
    "url=https://www.gov.uk/self-assessment-tax-returns",
}
