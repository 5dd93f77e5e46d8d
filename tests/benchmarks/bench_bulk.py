"""How long checking the largest bulk file takes (350 rows), beside a floor measured in the
same run: reading the same file with the standard library's csv module alone. Also how long
the one write transaction holds the database when all 350 are submitted. `make bench` runs
this; it prints figures and fails only on a broken check, never on speed."""

import csv
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, SQLModel

import approvals.models  # noqa: F401  (registers tables)
from approvals.clock import FrozenClock
from approvals.db import make_engine, session_scope
from approvals.importing import bulk
from approvals.importing.bulk import ImportFile, ImportPlan
from approvals.importing.bulk_images import ImageSet, NoImages, UploadedImages
from tests.benchmarks import table
from tests.bulk_files import REMINDER, csv_bytes, png, row
from tests.conftest import NOW
from tests.factories import AUDIT_KEYS, REPO, Org, load_org

ROWS = 350
TEXT = (
    "Applications for the Autumn Small Business Grant close on 14 December at 17:00. "
    "Read the guidance at https://www.gov.uk/small-business-grant #SmallBusiness"
)
CASES: dict[str, tuple[list[list[str]], Callable[[], ImageSet]]] = {
    "typed posts": ([row(text=f"{n}: {TEXT}") for n in range(ROWS)], NoImages),
    "two-part threads": (
        [row(text=f"{n}: {TEXT}\n---\nQuestions? https://www.gov.uk/contact") for n in range(ROWS)],
        NoImages,
    ),
    "from a template": (
        [row(**{**REMINDER, "vars": REMINDER["vars"] + f"?n={n}"}) for n in range(ROWS)],
        NoImages,
    ),
    "with an image each": (
        [row(text=f"{n}: {TEXT}", image=f"i{n % 20}.png", alt_text="A chart") for n in range(ROWS)],
        lambda: UploadedImages({f"i{k}.png": io.BytesIO(png(64, 48, k)) for k in range(20)}),
    ),
}


def _median(run: Callable[[], object], *, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _check(org: Org, data: bytes, images: ImageSet) -> ImportPlan:
    return bulk.check(
        org.session,
        actor_email="alice@example.org",
        upload=ImportFile("bench.csv", data),
        images=images,
        now=org.clock.now(),
        templates_dir=REPO / "templates" / "posts",
    )


def bench_checking_350_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/bench.db", audit_keys=AUDIT_KEYS)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        org = load_org(session, FrozenClock(NOW))
        for label, (rows, images) in CASES.items():
            data = csv_bytes(rows)
            plan = _check(org, data, images())
            assert len(plan.rows) == ROWS and not plan.problems(submit=True), label

            def floor(data: bytes = data) -> object:
                return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))

            full = _median(lambda data=data, images=images: _check(org, data, images()), repeat=5)
            least = _median(floor, repeat=25)
            print(
                f"\n{ROWS} rows, {label} ({len(data):,} bytes): checked in {full * 1e3:.0f} ms, "
                f"floor (stdlib csv) {least * 1e3:.2f} ms, ratio {full / least:.0f}x"
            )
            table.add(
                "bulk", f"check {ROWS} rows, {label}", full * 1e3, least * 1e3, "ms",
                "the stdlib csv reader on the same file",
            )  # fmt: skip
    engine.dispose()


def bench_submitting_350_rows_in_one_transaction(tmp_path: Path) -> None:
    """The write lock's time on SQLite: every row through create_draft and submit."""
    engine = make_engine(f"sqlite:///{tmp_path}/bench.db", audit_keys=AUDIT_KEYS)
    SQLModel.metadata.create_all(engine)
    clock = FrozenClock(NOW)
    with Session(engine, expire_on_commit=False) as session:
        org = load_org(session, clock)
        rows, images = CASES["typed posts"]
        plan = _check(org, csv_bytes(rows), images())
        actor = org.person("alice@example.org")
    start = time.perf_counter()
    with session_scope(engine) as session:
        saved = bulk.save(session, actor=actor, plan=plan, submit=True, now=clock.now())
    held = time.perf_counter() - start
    assert len(saved) == ROWS
    print(f"\n{ROWS} rows submitted in one transaction (SQLite): {held:.2f} s")
    table.add(
        "bulk", f"submit {ROWS} rows in one transaction (SQLite)", held, None, "s",
        "none: a write-lock time, read alone",
    )  # fmt: skip
    engine.dispose()
