"""How long the full policy takes on a post and a thread, beside a floor measured in the same
run: one compiled regular-expression pass over the same text. `make bench` runs this; it
prints figures and does not fail on speed (machines differ), only on a broken check."""

import re
import statistics
import time
from collections.abc import Callable

from approvals import twitter_text
from approvals.config import PolicyConfig, UtmConfig
from approvals.policy import PartToCheck, check

POLICY = PolicyConfig(
    blocked_terms=["guaranteed", "cast iron", "no questions asked", "leaked"],
    warn_terms=["hope", "soon", "exclusive"],
    link_allow=["gov.uk", "nhs.uk", "example.org"],
    link_block=["rumours.example.com"],
    utm=UtmConfig(campaign="bench"),
)
HANDLES = ["@alice_ahmed", "@bob_b", "@carol_c"]
FLOOR = re.compile(r"[\w.+-]+@[\w-]+\.\w+|\+?\d[\d ()-]{8,}\d|https?://\S+|[#@]\w+")

POST = (
    "Applications for the Autumn Small Business Grant close on 14 December at 17:00. "
    "Read the guidance at https://www.gov.uk/small-business-grant and ask @DeptHelp if you "
    "are unsure. Questions from the press: 020 7946 0000. #SmallBusiness #Grants 🇬🇧"
)[:280]
THREAD = [f"{n}/10 {POST[: 250 - 5 * n]} https://www.gov.uk/part{n}" for n in range(1, 11)]


def _median_seconds(run: Callable[[], object], *, repeat: int = 25, number: int = 40) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def _floor(texts: list[str]) -> Callable[[], object]:
    return lambda: [list(FLOOR.finditer(t)) for t in texts]


def _report(label: str, texts: list[str]) -> None:
    parts = [PartToCheck(t) for t in texts]
    result = check(parts, policy=POLICY, personal_handles=HANDLES)
    assert result.findings, "the benchmark text is meant to trip rules (phone, hashtags)"

    def cold() -> object:
        # Each keystroke of a live check is new text: no link cache carried between runs.
        twitter_text._extract_urls.cache_clear()
        return check(parts, policy=POLICY, personal_handles=HANDLES)

    full = _median_seconds(cold)
    floor = _median_seconds(_floor(texts))
    chars = sum(len(t) for t in texts)
    print(
        f"\n{label}: {chars} chars, policy check median {full * 1e6:.0f} µs, "
        f"floor (one regex pass) {floor * 1e6:.1f} µs, ratio {full / floor:.0f}x"
    )


def bench_a_280_character_post() -> None:
    assert len(POST) <= 280
    _report("280-character post", [POST])


def bench_a_ten_part_thread() -> None:
    _report("10-part thread", THREAD)
