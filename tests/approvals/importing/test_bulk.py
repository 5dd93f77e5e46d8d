"""Bulk scheduling in the domain: every row of a CSV checked against the map and the policy
before anything is saved; then all rows saved (or submitted) in one transaction, or none.
A bad row is named by its CSV line and column. Runs on SQLite and PostgreSQL."""

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from approvals.errors import InvalidInput, PermissionDenied, Refused
from approvals.importing import bulk, bulk_csv
from approvals.importing.bulk import ImportFile, ImportPlan
from approvals.importing.bulk_images import DirectoryImages, ImageSet, NoImages, UploadedImages
from approvals.models import AuditEntry, AuditHead, MediaAsset, Post, PostState, Revision
from tests.bulk_files import HEADER, REMINDER, csv_bytes, png, row
from tests.factories import REPO, Org, small_config

TEMPLATES = REPO / "templates" / "posts"
ALICE = "alice@example.org"


def check(
    org: Org, data: bytes, *, images: ImageSet | None = None, actor: str = ALICE
) -> ImportPlan:
    return bulk.check(
        org.session,
        actor_email=actor,
        upload=ImportFile("posts.csv", data),
        images=images or NoImages(),
        now=org.clock.now(),
        templates_dir=TEMPLATES,
    )


def save(org: Org, plan: ImportPlan, *, submit: bool = False, actor: str = ALICE) -> list[Post]:
    """As a caller's unit of work does it: commit on success, roll back on any error."""
    try:
        saved = bulk.save(
            org.session, actor=org.person(actor), plan=plan, submit=submit, now=org.clock.now()
        )
    except Exception:
        org.session.rollback()
        raise
    org.session.commit()
    return saved


def snapshot(session: Session) -> tuple[int, int, int, int, str]:
    """Row counts and the audit head: what must not move when an import is refused."""
    count = [
        session.exec(select(func.count()).select_from(table)).one()
        for table in (Post, Revision, MediaAsset, AuditEntry)
    ]
    head = session.get(AuditHead, 1)
    return (*count, head.hash if head else "")


def uploaded(**files: bytes) -> UploadedImages:
    return UploadedImages(
        {name.replace("_", "."): io.BytesIO(data) for name, data in files.items()}
    )


def where(plan: ImportPlan, *, submit: bool = False) -> list[tuple[int | None, str | None]]:
    return [(p.line, p.column) for p in plan.problems(submit=submit)]


def problem_at(plan: ImportPlan, line: int, column: str | None, *, submit: bool = False) -> str:
    found = [p for p in plan.problems(submit=submit) if (p.line, p.column) == (line, column)]
    assert found, (line, column, plan.problems(submit=submit))
    return found[0].message


# --- a good file ------------------------------------------------------------------------
def good_file() -> bytes:
    return csv_bytes(
        [
            row(text="Our annual report is out today.\n---\nRead it at https://www.gov.uk/report"),
            row(
                account="@DeptHelp",
                date="2027-01-20",
                time="10:00",
                campaign="self-assessment",
                **REMINDER,
            ),
            row(
                account="deptnews",
                date="2027-06-01",
                time="9:05",
                text="Our new office opens today.",
                image="office.png",
                alt_text="The new office\\; a glass front",
                campaign="estates",
            ),
        ]
    )


def test_a_good_file_is_checked_without_saving_anything(org: Org) -> None:
    before = snapshot(org.session)
    plan = check(org, good_file(), images=uploaded(office_png=png()))
    assert plan.problems(submit=True) == []
    assert [r.line for r in plan.rows] == [2, 5, 6], "a two-line cell moves the next row down"
    first, reminder, office = plan.rows
    assert first.parts == [
        "Our annual report is out today.",
        "Read it at https://www.gov.uk/report",
    ]
    assert first.scheduled_at == datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
    assert first.scheduled_local == "2027-01-05 09:30 GMT"
    assert reminder.template == "deadline_reminder"
    assert reminder.parts[0].startswith("Reminder: the deadline for Self Assessment is 31 January")
    assert office.account == "@DeptNews", "the handle as the map spells it"
    assert office.scheduled_at == datetime(2027, 6, 1, 8, 5, tzinfo=UTC), "09:05 BST"
    assert [(i.name, i.alt_text) for i in office.images] == [
        ("office.png", "The new office; a glass front")
    ], "'\\;' is a semicolon inside an alt text, not between two"
    assert snapshot(org.session) == before


def test_a_good_file_saves_every_row_as_a_draft_in_one_go(org: Org) -> None:
    plan = check(org, good_file(), images=uploaded(office_png=png()))
    saved = save(org, plan)
    assert [p.state for p in saved] == [PostState.DRAFT] * 3
    assert [p.scheduled_at for p in saved] == [r.scheduled_at for r in plan.rows]
    drafts = org.session.exec(
        select(AuditEntry).where(AuditEntry.action == "post.draft").order_by(col(AuditEntry.seq))
    ).all()
    campaigns = [json.loads(e.details).get("campaign") for e in drafts]
    assert campaigns == [None, "self-assessment", "estates"], "the campaign tag is kept"
    assert [(p.campaign, p.template) for p in saved] == [
        (None, None),
        ("self-assessment", "deadline_reminder"),
        ("estates", None),
    ], "and set on the posts, for analytics"
    imported = org.session.exec(select(AuditEntry).where(AuditEntry.action == "post.import")).one()
    details = json.loads(imported.details)
    assert details["posts"] == [[2, saved[0].id], [5, saved[1].id], [6, saved[2].id]]
    assert details["sha256"] == plan.sha256 and details["submitted"] is False
    assert org.session.exec(select(func.count()).select_from(MediaAsset)).one() == 1


def test_submit_all_sends_every_row_to_its_approvers(org: Org) -> None:
    plan = check(org, good_file(), images=uploaded(office_png=png()))
    saved = save(org, plan, submit=True)
    assert [p.state for p in saved] == [PostState.SUBMITTED] * 3


# --- every kind of bad row, each named by line and column; nothing saved ------------------
BAD_ROWS: list[tuple[list[str], str, str]] = [
    (row(account="@Nobody"), "account", "not in the permission map"),
    (row(account="@MinisterOwn"), "account", "personal account"),
    (row(account=""), "account", "no account"),
    (row(date="05/01/2027"), "date", "is not a date written YYYY-MM-DD"),
    (row(date="2027-02-30"), "date", "not a date in the calendar"),
    (row(time="9.30am"), "time", "is not a time written HH:MM"),
    (row(date="2027-03-28", time="01:30"), "time", "does not exist in Europe/London"),
    (row(date="2027-10-31", time="01:30"), "time", "happens twice in Europe/London"),
    (row(date="2026-11-01"), "time", "is in the past"),
    (row(text=""), "text", "no text"),
    (row(text="one\n---\n\n---\nthree"), "text", "part 2 is empty"),
    (row(text="Hello", template="deadline_reminder"), "template", "not both"),
    (row(text="", template="no_such_template"), "template", "no post template named"),
    (row(text="", template="deadline_reminder", vars="service=SA"), "vars", "no value for"),
    (row(text="", template="deadline_reminder", vars="oops"), "vars", "is not name=value"),
    (row(vars="a=b"), "vars", "fill in a template"),
    (row(image="../secret.png"), "image", "is a path"),
    (row(image="/etc/passwd"), "image", "is a path"),
    (row(image="missing.png"), "image", "is not among the images given"),
    (row(image="notes.txt"), "image", "accept"),  # not an image the domain accepts
    (row(image="a.png", alt_text="one;two"), "alt_text", "2 alt texts for 1 image"),
    (row(image="a.png;a.png;a.png;a.png;a.png"), "image", "at most 4"),
    (row(campaign="x" * 65), "campaign", "at most 64 characters"),
]


def test_every_bad_row_is_named_by_line_and_column_and_nothing_is_saved(org: Org) -> None:
    rows = [row()] + [bad for bad, _, _ in BAD_ROWS] + [row()]
    images = uploaded(a_png=png(), notes_txt=b"not an image")
    plan = check(org, csv_bytes(rows), images=images)
    line = 3  # the header, then a good row
    for cells, column, message in BAD_ROWS:
        assert message in problem_at(plan, line, column), (line, column)
        line += 1 + sum(cell.count("\n") for cell in cells)  # a quoted cell may span lines
    assert len(plan.problems(submit=False)) == len(BAD_ROWS), plan.problems(submit=False)
    before = snapshot(org.session)
    with pytest.raises(InvalidInput, match=r"posts\.csv, line 3, column account: .*nothing was"):
        save(org, plan)
    assert snapshot(org.session) == before


def test_a_row_for_an_account_without_the_right_is_a_refusal(org: Org) -> None:
    plan = check(org, csv_bytes([row()]), actor="bob@example.org")
    message = problem_at(plan, 2, "account")
    assert message == "bob@example.org may not draft on @DeptNews"
    assert all(p.refused for p in plan.problems(submit=False))
    before = snapshot(org.session)
    with pytest.raises(Refused):
        save(org, plan, actor="bob@example.org")
    assert snapshot(org.session) == before


def test_blocking_findings_stop_submit_all_but_not_save_as_drafts(org: Org) -> None:
    rows = [row(), row(text="Questions? Email press@example.org"), row(image="a.png")]
    plan = check(org, csv_bytes(rows), images=uploaded(a_png=png()))
    assert plan.problems(submit=False) == []
    assert "personal_data.email" in problem_at(plan, 3, "text", submit=True)
    assert "media.alt_text" in problem_at(plan, 4, "alt_text", submit=True)
    assert [f.rule for f in plan.rows[1].findings] == ["personal_data.email"]
    before = snapshot(org.session)
    with pytest.raises(Refused, match=r"line 3, column text"):
        save(org, plan, submit=True)
    assert snapshot(org.session) == before
    assert [p.state for p in save(org, plan)] == [PostState.DRAFT] * 3


def test_a_refusal_met_while_saving_names_the_line_and_saves_nothing(org: Org) -> None:
    plan = check(org, csv_bytes([row(), row(account="@DeptHelp")]))
    assert plan.problems(submit=False) == []
    raw = small_config()
    raw["roles"]["officer"]["accounts"] = ["@DeptNews"]  # the map changed since the check
    org.apply(raw)
    org.session.commit()
    before = snapshot(org.session)
    with pytest.raises(PermissionDenied, match=r"^posts\.csv, line 3: alice@example\.org may not"):
        save(org, plan)
    assert snapshot(org.session) == before


# --- the file itself --------------------------------------------------------------------
def test_351_rows_are_refused_naming_the_first_row_too_many(org: Org) -> None:
    plan = check(org, csv_bytes([row()] * 351))
    assert where(plan) == [(352, None)]
    assert "more than 350 posts" in plan.problems(submit=False)[0].message
    assert plan.rows == [], "no row of a refused file is checked"


def test_350_rows_save_in_one_transaction(org: Org) -> None:
    plan = check(org, csv_bytes([row(text=f"Post number {n}") for n in range(350)]))
    assert plan.problems(submit=True) == []
    saved = save(org, plan, submit=True)
    assert len(saved) == 350 and len({p.id for p in saved}) == 350


def test_a_multi_line_quoted_cell_is_named_by_the_line_its_row_starts_on(org: Org) -> None:
    thread = 'First part\n---\nSecond part,\nwith a comma and "quotes"'
    data = csv_bytes([row(text=thread), row(account="@Nobody", text="two\nlines")])
    plan = check(org, data)
    assert where(plan) == [(6, "account")], "header 1, the thread 2-5, the bad row 6-7"
    assert plan.rows[0].parts == ["First part", 'Second part,\nwith a comma and "quotes"']


def test_an_unclosed_quote_is_named_by_the_line_its_row_starts_on(org: Org) -> None:
    data = csv_bytes([row()]) + b'@DeptNews,2027-01-05,09:30,"never closed\r\nmore\r\n'
    plan = check(org, data)
    assert where(plan) == [(3, None)]
    assert "never closed" in plan.problems(submit=False)[0].message


def test_a_utf8_file_with_a_byte_order_mark_reads_as_without(org: Org) -> None:
    plan = check(org, csv_bytes([row(text="Café opening")], bom=True))
    assert plan.problems(submit=False) == []
    assert plan.rows[0].parts == ["Café opening"]


def test_column_names_ignore_case_and_order_and_one_datetime_column_will_do(org: Org) -> None:
    data = csv_bytes(
        [["Hello from the help team", "2027-01-05T09:30", "@DeptHelp"]],
        header=("TEXT", "DateTime", " Account "),
    )
    plan = check(org, data)
    assert plan.problems(submit=False) == []
    assert plan.rows[0].account == "@DeptHelp"
    assert plan.rows[0].scheduled_at == datetime(2027, 1, 5, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "line", "column", "message"),
    [
        (b"account,text\r\n@DeptNews,caf\xe9\r\n", 2, None, "not UTF-8"),
        ("account,text\r\n@DeptNews,hi\r\n".encode("utf-16"), None, None, "UTF-16"),
        (b"account,text,time,date\r\n@DeptNews,a\x00b,09:30,2027-01-05\r\n", 2, None, "NUL"),
        (b"PK\x03\x04rest of a workbook", None, None, "workbook"),
        (csv_bytes([row()], header=(*HEADER[:-1], "colour")), 1, "colour", "unknown column"),
        (csv_bytes([["@DeptNews", "hi"]], header=("account", "text")), 1, "date", "no date"),
        (csv_bytes([["x"]], header=("date",)), 1, "account", "no account column"),
        (csv_bytes([[*row(), "extra"]]), 2, None, "a cell holding a comma must be in"),
        (csv_bytes([]), None, None, "no posts"),
        (b"", None, None, "the file is empty"),
        (b"a" * (bulk_csv.MAX_FILE_BYTES + 1), None, None, "larger than 1,000,000 bytes"),
    ],
)
def test_a_file_that_cannot_be_read_says_where_and_why(
    org: Org, data: bytes, line: int | None, column: str | None, message: str
) -> None:
    plan = check(org, data)
    problems = plan.problems(submit=False)
    assert (problems[0].line, problems[0].column) == (line, column), problems
    assert message in problems[0].message, problems[0].message


# --- images come from the given set, never from a path ------------------------------------
def test_images_come_only_from_the_folder_given(org: Org, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    (folder / "ok.png").write_bytes(png())
    (folder / "sub" / "deep.png").write_bytes(png(shade=1))
    (tmp_path / "outside.png").write_bytes(png(shade=2))
    os.symlink(tmp_path / "outside.png", folder / "link.png")
    names = [
        "ok.png",
        "../outside.png",
        "sub/deep.png",
        "link.png",
        str(tmp_path / "outside.png"),
        "..\\outside.png",
        "OK.png",
        "sub",
    ]
    rows = [row(image=name, alt_text="a picture") for name in names]
    plan = check(org, csv_bytes(rows), images=DirectoryImages(folder))
    assert where(plan) == [(line, "image") for line in range(3, 10)], plan.problems(submit=False)
    assert "did you mean 'ok.png'" in problem_at(plan, 8, "image")
    assert plan.rows[0].images[0].name == "ok.png"


def test_an_image_used_by_many_rows_is_stored_once(org: Org) -> None:
    rows = [row(text=f"Post {n}", image="logo.png", alt_text="Our logo") for n in range(3)]
    images = uploaded(logo_png=png(), spare_png=png(shade=9))
    plan = check(org, csv_bytes(rows), images=images)
    assert plan.unused_images == ["spare.png"]
    save(org, plan)
    assert org.session.exec(select(func.count()).select_from(MediaAsset)).one() == 1


def test_the_digest_changes_with_the_file_and_with_its_images(org: Org) -> None:
    data = csv_bytes([row(image="a.png", alt_text="A")])
    first = check(org, data, images=uploaded(a_png=png()))
    again = check(org, data, images=uploaded(a_png=png()))
    other_image = check(org, data, images=uploaded(a_png=png(shade=5)))
    other_file = check(
        org, csv_bytes([row(image="a.png", alt_text="B")]), images=uploaded(a_png=png())
    )
    assert first.digest == again.digest
    assert len({first.digest, other_image.digest, other_file.digest}) == 3


def test_a_repeated_local_time_is_taken_with_an_explicit_offset(org: Org) -> None:
    plan = check(org, csv_bytes([row(date="2027-10-31", time="01:30+01:00")]))
    assert plan.problems(submit=False) == []
    assert plan.rows[0].scheduled_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert plan.rows[0].scheduled_local == "2027-10-31 01:30 BST"
