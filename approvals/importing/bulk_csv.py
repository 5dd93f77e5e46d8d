"""Reading a bulk-scheduling CSV: the file as a spreadsheet saves it, into rows that know the
line they start on.

A person fixes a bad file in a spreadsheet, so every problem names the CSV line (the header
is line 1; a row whose quoted cell spans lines is named by the line it starts on) and the
column. Problems with the file as a whole (its size, encoding, quoting, header) stop the
reading; problems confined to one row are collected so that one upload shows them all.
Nothing here touches the database: `approvals.importing.bulk` checks what the rows say.
"""

import csv
import io
import re
from dataclasses import dataclass, field

MAX_ROWS = 350  # as many posts as Hootsuite's bulk composer takes in one file
MAX_FILE_BYTES = 1_000_000
BOM = b"\xef\xbb\xbf"

# The columns, in the order the template file shows them. Names are matched ignoring case,
# surrounding spaces, and spaces or hyphens in place of "_" ("Alt text" is alt_text).
COLUMNS = (
    "account",
    "date",
    "time",
    "datetime",
    "text",
    "image",
    "alt_text",
    "template",
    "vars",
    "campaign",
)
KNOWN = frozenset(COLUMNS)
COLUMN_LIST = (
    "account, date and time (or datetime), text, image, alt_text, template, vars, campaign"
)


@dataclass(frozen=True)
class Problem:
    """What is wrong and where: `line` None is the file as a whole, `column` None the row.
    `refused` marks a rule's refusal (no right on the account, blocking policy findings),
    as opposed to input that cannot be used as it is."""

    line: int | None
    column: str | None
    message: str
    refused: bool = False

    @property
    def where(self) -> str:
        if self.line is None:
            return "the file"
        return f"line {self.line}" + (f", column {self.column}" if self.column else "")

    def describe(self, file: str) -> str:
        """One line naming the file, the line and the column: what the CLI prints."""
        place = f"{file}, {self.where}" if self.line is not None else file
        return f"{place}: {self.message}"


@dataclass(frozen=True)
class CsvRow:
    line: int  # the CSV line the row starts on
    cells: dict[str, str]  # known column -> value, stripped, line ends as "\n"

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class ParsedCsv:
    columns: tuple[str, ...] = ()
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    complete: bool = False  # read to the end (row problems aside), so its rows can be checked


def parse(data: bytes) -> ParsedCsv:
    """The rows of `data`, or the problems that stop it being read (see the module doc)."""
    result = ParsedCsv()
    text = _decode(data, result.problems)
    if text is None:
        return result
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    unnamed: list[int] = []
    count = 0
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(Problem(start, None, _quoting_message(str(exc))))
            return result
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells a spreadsheet left behind
        if header is None:
            header = [_column_name(c) for c in cells]
            unnamed = [i for i, name in enumerate(header) if not name]
            if not _check_header(header, start, result.problems):
                return result
            result.columns = tuple(name for name in header if name)
            continue
        count += 1
        if count > MAX_ROWS:
            result.problems.append(
                Problem(
                    start,
                    None,
                    f"more than {MAX_ROWS} posts: this is post {count}; "
                    f"split the file into files of {MAX_ROWS} rows or fewer",
                )
            )
            return result
        row = _row(cells, header, unnamed, start, result.problems)
        if row is not None:
            result.rows.append(row)
    if header is None:
        result.problems.append(
            Problem(None, None, f"the file is empty: it needs a header row ({COLUMN_LIST})")
        )
    elif count == 0:
        result.problems.append(Problem(None, None, "the file has a header but no posts under it"))
    else:
        result.complete = True
    return result


def _decode(data: bytes, problems: list[Problem]) -> str | None:
    """UTF-8 text (a byte-order mark, which Excel's "CSV UTF-8" writes, is dropped), or None
    with the problem that stops it being read."""
    if len(data) > MAX_FILE_BYTES:
        problems.append(
            Problem(
                None,
                None,
                f"the file is larger than {MAX_FILE_BYTES:,} bytes; split it into smaller files",
            )
        )
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(None, None, _NOT_UTF8 + " (it is UTF-16)"))
        return None
    if data.startswith(b"PK\x03\x04"):
        problems.append(
            Problem(
                None,
                None,
                "this is a spreadsheet workbook (.xlsx), not a CSV file: save it as CSV UTF-8",
            )
        )
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        problems.append(
            Problem(line, None, "the file holds a NUL byte: " + _NOT_UTF8 + " (UTF-16 perhaps)")
        )
        return None
    try:
        return data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(BOM) if data.startswith(BOM) else 0)
        line = data.count(b"\n", 0, offset) + 1
        problems.append(Problem(line, None, _NOT_UTF8))
        return None


_NOT_UTF8 = "the file is not UTF-8 text; save it as CSV UTF-8 (in Excel: Save As, CSV UTF-8)"


def _column_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _check_header(header: list[str], line: int, problems: list[Problem]) -> bool:
    found = len(problems)
    seen: set[str] = set()
    for name in header:
        if not name:
            continue
        if name not in KNOWN:
            problems.append(Problem(line, name, f"unknown column; the columns are {COLUMN_LIST}"))
        elif name in seen:
            problems.append(Problem(line, name, "this column appears twice"))
        seen.add(name)
    if "account" not in seen:
        problems.append(Problem(line, "account", "the header has no account column"))
    if "text" not in seen and "template" not in seen:
        problems.append(Problem(line, "text", "the header needs a text or a template column"))
    if "datetime" in seen and seen & {"date", "time"}:
        problems.append(
            Problem(line, "datetime", "give either a datetime column or date and time, not both")
        )
    elif "datetime" not in seen and seen & {"date", "time"} != {"date", "time"}:
        missing = "time" if "date" in seen else "date"
        problems.append(
            Problem(
                line, missing, f"the header has no {missing} column (or use one datetime column)"
            )
        )
    return len(problems) == found


def _row(
    cells: list[str], header: list[str], unnamed: list[int], line: int, problems: list[Problem]
) -> CsvRow | None:
    if len(cells) > len(header):
        extra = [c for c in cells[len(header) :] if c.strip()]
        if extra:
            problems.append(
                Problem(
                    line,
                    None,
                    f"{len(cells)} cells but the header has {len(header)} columns: "
                    "a cell holding a comma must be in double quotes",
                )
            )
            return None
    for index in unnamed:
        if index < len(cells) and cells[index].strip():
            problems.append(
                Problem(
                    line,
                    f"column {index + 1}",
                    "a value under a column with no name in the header: name the column or "
                    "empty it",
                )
            )
            return None
    # A short row (a spreadsheet may drop trailing empty cells) has its missing cells empty.
    values = {
        name: _normalise(cells[i]) if i < len(cells) else ""
        for i, name in enumerate(header)
        if name
    }
    return CsvRow(line, values)


def _normalise(cell: str) -> str:
    return cell.replace("\r\n", "\n").replace("\r", "\n").strip()


def _quoting_message(error: str) -> str:
    if "unexpected end of data" in error:
        return (
            "a quoted cell that starts in this row is never closed: add the missing "
            'closing double quote (a quote inside a quoted cell is written "")'
        )
    if "field larger than field limit" in error:
        return "a cell is longer than a CSV cell may be (131,072 characters)"
    return (
        "the quotes in this row are not valid CSV: a cell in double quotes must end with the "
        'quote, and a quote inside it is written "" '
        f"({error})"
    )


def split_list(cell: str, *, positional: bool = False) -> list[str]:
    """A `;`-separated cell (images, alt texts, template variables); `\\;` is a literal
    semicolon; each item is stripped. Empty items are dropped, unless `positional` (alt
    texts: `;;` leaves an image without one), where only trailing ones are."""
    if not cell.strip():
        return []
    items = [item.replace("\\;", ";").strip() for item in re.split(r"(?<!\\);", cell)]
    if not positional:
        return [item for item in items if item]
    while items and not items[-1]:
        items.pop()
    return items


def example(first_day: str, second_day: str) -> str:
    """A template file to download: the header and two rows, a two-part thread and a post
    from a shipped template. `first_day` and `second_day` are future dates (YYYY-MM-DD)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["account", "date", "time", "text", "image", "alt_text", "template", "vars", "campaign"]
    )
    writer.writerow(
        [
            "@DeptNews",
            first_day,
            "09:30",
            "Our annual report is out today.\n---\nRead it at https://www.gov.uk/annual-report",
            "",
            "",
            "",
            "",
            "annual-report",
        ]
    )
    writer.writerow(
        [
            "@DeptHelp",
            second_day,
            "10:00",
            "",
            "",
            "",
            "deadline_reminder",
            "service=Self Assessment;deadline=31 January;"
            "url=https://www.gov.uk/self-assessment-tax-returns",
            "self-assessment",
        ]
    )
    return buffer.getvalue()
