"""How long the full policy takes on a post and a thread, beside two floors measured in the
same run: one compiled regular-expression pass over the same text, and X's own twitter-text
(the npm package, run by node) weighing the same texts. `make bench` runs this; it prints
figures and does not fail on speed (machines differ), only on a broken check."""

import json
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from approvals.content import twitter_text
from approvals.content.policy import PartToCheck, check
from approvals.content.policy_config import PolicyConfig, UtmConfig
from tests.benchmarks import table

TWITTER_TEXT = "twitter-text@3.1.0"  # the version approvals.content.twitter_text follows
NODE_CACHE = Path(__file__).resolve().parents[1] / "artifacts" / "node"
# The same sampling as `_median_seconds`, in node: median of 25 rounds of 40 parseTweet calls.
NODE_BENCH = """
const tt = require("twitter-text");
const texts = JSON.parse(require("fs").readFileSync(0, "utf8"));
const run = () => texts.map((t) => tt.parseTweet(t));
const lengths = run().map((r) => r.weightedLength);
const samples = [];
for (let i = 0; i < 25; i++) {
  const start = process.hrtime.bigint();
  for (let j = 0; j < 40; j++) run();
  samples.push(Number(process.hrtime.bigint() - start) / 1e9 / 40);
}
samples.sort((a, b) => a - b);
console.log(JSON.stringify({ seconds: samples[12], lengths }));
"""

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


def _twitter_text_by_node(texts: list[str]) -> tuple[float | None, str]:
    """Seconds per round of X's own parseTweet over `texts`, or None and why not."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None, "node is not installed"
    if not (NODE_CACHE / "node_modules" / "twitter-text").is_dir():
        NODE_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(NODE_CACHE), "--no-audit", "--no-fund", TWITTER_TEXT],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return None, f"npm could not install {TWITTER_TEXT}: {done.stderr.strip()[-200:]}"
    done = subprocess.run(
        [node, "-e", NODE_BENCH],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        cwd=NODE_CACHE,
        env={"NODE_PATH": str(NODE_CACHE / "node_modules"), "PATH": "/usr/bin:/bin"},
    )
    answer = json.loads(done.stdout)
    ours = [twitter_text.weighted_length(t) for t in texts]
    assert answer["lengths"] == ours, "X's count and ours differ on the bench texts"
    return float(answer["seconds"]), ""


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
    table.add("policy", f"{label}: full check", full * 1e6, floor * 1e6, "µs", "one regex pass")
    x_own, why_not = _twitter_text_by_node(texts)
    if x_own is None:
        print(f"{label}: no twitter-text floor: {why_not}")
    table.add(
        "policy", f"{label}: full check", full * 1e6, None if x_own is None else x_own * 1e6,
        "µs", "X's twitter-text parseTweet (node)", why_not,
    )  # fmt: skip

    def length_only() -> object:
        twitter_text._extract_urls.cache_clear()
        return [twitter_text.parse(t) for t in texts]

    ours = _median_seconds(length_only)
    table.add(
        "policy", f"{label}: weighted length only", ours * 1e6,
        None if x_own is None else x_own * 1e6, "µs", "X's twitter-text parseTweet (node)",
        why_not,
    )  # fmt: skip


def bench_a_280_character_post() -> None:
    assert len(POST) <= 280
    _report("280-character post", [POST])


def bench_a_ten_part_thread() -> None:
    _report("10-part thread", THREAD)
