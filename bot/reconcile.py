"""Reading an account's timeline to settle an attempt whose outcome is unknown.

When a call to X times out, a connection drops or a worker dies mid-call, the post may or
may not be on X. Before anything is sent again, the parts still missing are looked for on
the account's own timeline. Only a post that no other pressgate post owns (and that is not a
known stray copy), created since this post's first attempt, may be adopted: recurring
notices repeat their words, and an earlier notice is not this one.
"""

import re
import unicodedata
from collections.abc import Iterable
from datetime import timedelta

from approvals.delivery.publisher import TimelinePost

# How far before its first attempt a post may appear to have been created on X: the two
# clocks differ by this much at most (NTP keeps servers within a fraction of a second).
CLOCK_SKEW = timedelta(seconds=5)
_URL = re.compile(r"https?://\S+")


def match_parts(
    missing: list[tuple[int, str]],
    done: Iterable[str],
    timeline: list[TimelinePost],
    *,
    exclude: set[str],
) -> dict[int, str]:
    """Which timeline posts are the `missing` (position, text) parts, in thread order.

    Parts go out in order, each after the ones already `done`: a match must come after the
    last one found, and nothing after a part that is not on X can be on X.
    """
    ordered = sorted(timeline, key=lambda t: order_of(t.id))
    after = max((order_of(v) for v in done), default=(0, ""))
    used = set(exclude)
    found: dict[int, str] = {}
    for position, text in missing:
        match = next(
            (
                t
                for t in ordered
                if t.id not in used and order_of(t.id) > after and same_words(t.text, text)
            ),
            None,
        )
        if match is None:
            break
        found[position] = match.id
        used.add(match.id)
        after = order_of(match.id)
    return found


def same_words(ours: str, theirs: str) -> bool:
    """X rewrites links to t.co and may trim: compare the words with links set aside."""

    def norm(text: str) -> str:
        text = unicodedata.normalize("NFC", _URL.sub("<link>", text))
        return " ".join(text.split())

    return norm(ours) == norm(theirs)


def order_of(x_id: str) -> tuple[int, str]:
    """X ids grow with time; compare them as numbers (sandbox ids by their number)."""
    digits = x_id.rsplit("-", 1)[-1]
    return (int(digits), x_id) if digits.isdigit() else (0, x_id)
