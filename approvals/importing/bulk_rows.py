"""Checking one row of a bulk-scheduling CSV against the map and the policy in force.

`approvals.importing.bulk` runs these over a whole file; each check records its problems under the
column a person must change, and what the row will save. Nothing here writes.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session

from approvals import posts
from approvals.config import Action
from approvals.content import policy, post_templates
from approvals.content.findings import Finding
from approvals.content.policy_config import UtmConfig
from approvals.content.post_templates import TemplateSpec, split_thread
from approvals.errors import InvalidInput, PressgateError, Refused
from approvals.importing.bulk_csv import CsvRow, Problem, split_list
from approvals.importing.bulk_images import ImageReader
from approvals.map_store import current_map, get_account
from approvals.models import Account
from approvals.permissions import PermissionMap
from approvals.schedule import parse_local_time, show_local

MAX_CAMPAIGN = 64
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2}(?::\d{2})?)((?:[+-]\d{2}:?\d{2}|Z)?)")


@dataclass(frozen=True)
class ImageUse:
    name: str
    sha256: str
    alt_text: str | None


@dataclass
class RowResult:
    """One row as checked: what it will save, its findings, and what stops it."""

    line: int
    account: str
    timezone: str | None = None
    scheduled_at: datetime | None = None
    texts: list[str] = field(default_factory=list)  # as written or rendered
    parts: list[str] = field(default_factory=list)  # as they will be posted (links tagged)
    images: list[ImageUse] = field(default_factory=list)
    template: str | None = None
    campaign: str | None = None
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    submit_problems: list[Problem] = field(default_factory=list)  # only if submitting

    @property
    def scheduled_local(self) -> str:
        return show_local(self.scheduled_at, self.timezone) if self.timezone else ""

    @property
    def preview(self) -> str:
        """The first words, for a table: a person recognises the row by them."""
        first = " ".join((self.parts[0] if self.parts else "").split())
        short = first if len(first) <= 60 else first[:59].rstrip() + "…"
        more = len(self.parts) - 1
        return short + (f" (+{more} part{'s' if more > 1 else ''})" if more else "")


@dataclass
class RowContext:
    """What the rows need from the database, read once for the whole file."""

    email: str
    pmap: PermissionMap
    accounts: dict[str, Account | str]  # cell -> account, or why it is unknown
    templates: dict[str, TemplateSpec | str]  # name -> template, or why it cannot be used
    utm: UtmConfig | None

    @classmethod
    def load(
        cls, session: Session, email: str, rows: list[CsvRow], templates_dir: Path
    ) -> "RowContext":
        pmap = current_map(session)
        accounts: dict[str, Account | str] = {}
        for handle in _distinct(row.get("account") for row in rows):
            try:
                accounts[handle] = get_account(session, handle)
            except PressgateError as error:
                accounts[handle] = str(error)
        templates: dict[str, TemplateSpec | str] = {}
        for name in _distinct(row.get("template") for row in rows):
            try:
                templates[name] = post_templates.find_template(session, name, templates_dir)
            except PressgateError as error:
                templates[name] = str(error)
        return cls(email.strip().lower(), pmap, accounts, templates, pmap.config.policy.utm)


def _distinct(values: Iterable[str]) -> list[str]:
    return sorted({v for v in values if v})


@dataclass
class _Row:
    """One row being checked; `bad` records a problem under a column."""

    csv: CsvRow
    result: RowResult

    def bad(self, column: str | None, message: str, *, refused: bool = False) -> None:
        self.result.problems.append(Problem(self.csv.line, column, message, refused))

    def bad_if_submitted(self, column: str, message: str) -> None:
        self.result.submit_problems.append(Problem(self.csv.line, column, message, True))


def check_row(row: CsvRow, ctx: RowContext, reader: ImageReader, now: datetime) -> RowResult:
    checking = _Row(row, RowResult(row.line, row.get("account")))
    account = _account(checking, ctx)
    _time(checking, account.timezone if account else None, now)
    _words(checking, ctx)
    _images(checking, reader)
    _campaign(checking)
    _policy(checking, ctx)
    return checking.result


def _account(row: _Row, ctx: RowContext) -> Account | None:
    handle = row.csv.get("account")
    if not handle:
        row.bad("account", "no account: name a corporate account, e.g. @DeptNews")
        return None
    found = ctx.accounts[handle]
    if isinstance(found, str):
        row.bad("account", found)
        return None
    row.result.account, row.result.timezone = found.handle, found.timezone
    if found.kind != "corporate":
        row.bad(
            "account",
            f"{found.handle} is a personal account: pressgate never posts to personal accounts",
            refused=True,
        )
    elif not ctx.pmap.can(ctx.email, Action.DRAFT, found.handle):
        row.bad("account", f"{ctx.email} may not draft on {found.handle}", refused=True)
    elif not ctx.pmap.can(ctx.email, Action.SUBMIT, found.handle):
        row.bad_if_submitted("account", f"{ctx.email} may not submit on {found.handle}")
    return found


def _time(row: _Row, zone: str | None, now: datetime) -> None:
    """The publishing time, in the account's zone; without a known account only its form
    can be checked."""
    value: str | None
    if "datetime" in row.csv.cells:
        column, value = "datetime", row.csv.get("datetime")
        if not value:
            row.bad(column, "no time: give the date and time, e.g. 2027-01-05 09:30")
            return
    else:
        column, value = "time", _date_and_time(row)
        if value is None:
            return
    if zone is None:
        return
    try:
        row.result.scheduled_at = parse_local_time(value, zone=zone, now=now)
    except InvalidInput as error:
        row.bad(column, str(error))


def _date_and_time(row: _Row) -> str | None:
    day, hour = row.csv.get("date"), row.csv.get("time")
    if not _DATE.fullmatch(day):
        written = f"{day!r} is not a date written" if day else "no date: write it"
        row.bad("date", f"{written} YYYY-MM-DD, e.g. 2027-01-05")
        day = ""
    else:
        try:
            date.fromisoformat(day)
        except ValueError:
            row.bad("date", f"{day!r} is not a date in the calendar")
            day = ""
    match = _TIME.fullmatch(hour)
    if match is None:
        written = f"{hour!r} is not a time written" if hour else "no time: write it"
        row.bad("time", f"{written} HH:MM (24-hour), e.g. 09:30")
        return None
    padded = f"{int(match[1]):02d}:{match[2]}{match[3]}"
    return f"{day} {padded}" if day else None


def _words(row: _Row, ctx: RowContext) -> None:
    text, name, variables = (row.csv.get(c) for c in ("text", "template", "vars"))
    column = "template" if name else "text"
    if text and name:
        row.bad("template", "give the text or a template, not both")
        return
    if name:
        row.result.template = name
        texts = _render(row, ctx.templates[name], variables)
    elif variables:
        row.bad("vars", "variables fill in a template: name it in the template column")
        return
    elif text:
        texts = split_thread(text)
    else:
        row.bad("text", "no text: write the post, or name a template")
        return
    if texts is None:
        return
    if len(texts) > posts.MAX_PARTS:
        row.bad(column, f"a thread may have at most {posts.MAX_PARTS} parts (got {len(texts)})")
        return
    has_images = bool(row.csv.get("image"))
    for number, part in enumerate(texts, start=1):
        if not part.strip() and not (number == 1 and has_images):
            row.bad(column, f"part {number} is empty: write it, or remove a '---' line")
            return
    row.result.texts = texts
    utm = ctx.utm
    row.result.parts = [policy.tag_links(t, utm) for t in texts] if utm else list(texts)


def _render(row: _Row, spec: TemplateSpec | str, cell: str) -> list[str] | None:
    if isinstance(spec, str):
        row.bad("template", spec)
        return None
    values: dict[str, str] = {}
    for pair in split_list(cell):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            row.bad("vars", f"{pair!r} is not name=value (separate variables with ';')")
            return None
        if key in values:
            row.bad("vars", f"{key} is given twice")
            return None
        values[key] = value.strip()
    missing = [v for v in spec.variables if v not in values]
    unknown = sorted(set(values) - set(spec.variables))
    if missing or unknown:
        needs = ", ".join(spec.variables) or "none"
        what = [f"no value for {', '.join(missing)}"] if missing else []
        what += [f"no variable {', '.join(unknown)}"] if unknown else []
        row.bad("vars", f"template {spec.name!r}: {'; '.join(what)} (it takes: {needs})")
        return None
    try:
        return post_templates.render(spec, values)
    except PressgateError as error:
        row.bad("template", str(error), refused=isinstance(error, Refused))
        return None


def _images(row: _Row, reader: ImageReader) -> None:
    names = split_list(row.csv.get("image"))
    alts = split_list(row.csv.get("alt_text"), positional=True)
    if len(names) > posts.MAX_MEDIA_PER_PART:
        row.bad("image", f"{len(names)} images; X allows at most {posts.MAX_MEDIA_PER_PART}")
        return
    if len(alts) > len(names):
        row.bad(
            "alt_text",
            f"{len(alts)} alt texts for {len(names)} image(s): give one per image, in the same "
            "order, separated by ';'",
        )
    for number, alt_text in enumerate(alts, start=1):
        if len(alt_text) > posts.MAX_ALT_TEXT:
            row.bad("alt_text", f"alt text {number} is longer than {posts.MAX_ALT_TEXT} characters")
    for index, name in enumerate(names):
        image = reader.get(name)
        if isinstance(image, str):
            row.bad("image", image)
            continue
        alt = alts[index] if index < len(alts) and alts[index] else None
        row.result.images.append(ImageUse(name, image.sha256, alt))


def _campaign(row: _Row) -> None:
    tag = row.csv.get("campaign")
    if not tag:
        return
    if len(tag) > MAX_CAMPAIGN or not tag.isprintable():
        row.bad(
            "campaign",
            f"a campaign tag is one line of at most {MAX_CAMPAIGN} characters",
        )
        return
    row.result.campaign = tag


def _policy(row: _Row, ctx: RowContext) -> None:
    """The findings of the words as they will be posted. Blocking ones stop a submit."""
    result = row.result
    if not result.parts:
        return
    alt_texts = tuple(u.alt_text for u in result.images)
    to_check = [
        policy.PartToCheck(text, alt_texts if i == 0 else ()) for i, text in enumerate(result.parts)
    ]
    result.findings = policy.check_config(to_check, ctx.pmap.config).findings
    words = "template" if result.template else "text"
    for finding in result.findings:
        if finding.blocking:
            column = "alt_text" if finding.rule.startswith("media.") else words
            row.bad_if_submitted(
                column, f"blocks submitting (fix it, or save as drafts): {policy.describe(finding)}"
            )
