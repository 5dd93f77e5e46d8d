"""Whereabouts in free-written personal posts (the staff self-check), measured on a table of
labelled personal posts: tests/data/whereabouts.csv (text, whereabouts = 1 or 0)."""

import csv
import time
from pathlib import Path

import pytest

from approvals.staff.self_check import WHEREABOUTS, self_check
from approvals.staff.whereabouts import find_whereabouts
from tests.factories import example_config

TABLE = Path(__file__).resolve().parents[2] / "data" / "whereabouts.csv"


def _flags(text: str) -> bool:
    return any(f.rule == WHEREABOUTS for f in self_check(text, example_config()))


def test_the_self_check_finds_whereabouts_with_precision_and_recall_of_at_least_0_9() -> None:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["whereabouts"] == "1") for r in csv.DictReader(handle)]
    assert len(rows) >= 60
    config = example_config()
    found = [(any(f.rule == WHEREABOUTS for f in self_check(t, config)), want) for t, want in rows]
    true_pos = sum(got and want for got, want in found)
    false_pos = sum(got and not want for got, want in found)
    false_neg = sum(want and not got for got, want in found)
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    print(
        f"\nwhereabouts on {len(rows)} labelled posts ({sum(w for _, w in rows)} with "
        f"whereabouts): precision {precision:.3f}, recall {recall:.3f}"
    )
    assert precision >= 0.9
    assert recall >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "Currently sitting in Pret on Victoria Street",
        "Grabbing lunch at Franco's on Jermyn Street if anyone's about",
        "\N{ROUND PUSHPIN} The Crown, Mill Lane",
        "In Leeds till Friday",
        "Meet me in Trafalgar Square at 1pm",
    ],
)
def test_a_place_said_to_be_the_writers_now_is_flagged(text: str) -> None:
    assert _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "Best fish and chips are in Whitby, fight me",  # a place, nobody there
        "Who else is watching the match tonight?",  # a time, no place
        "Loved the documentary on Baker Street's history",
        "Throwback to Rome in 2019, best holiday ever",
    ],
)
def test_a_place_or_a_time_alone_is_not_flagged(text: str) -> None:
    assert not _flags(text)


def test_the_finding_covers_the_place_named() -> None:
    (place,) = find_whereabouts("Lovely day. Currently sitting in Pret on Victoria Street.")
    assert place.text == "in Pret on Victoria Street"


def test_a_long_text_is_read_in_linear_time() -> None:
    text = ("Currently sitting in " + "Aaaa " * 5000 + ". ") * 20
    started = time.perf_counter()
    find_whereabouts(text)
    assert time.perf_counter() - started < 2.0
