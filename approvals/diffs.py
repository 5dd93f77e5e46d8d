"""What changed between two revisions of a post, word by word, image by image.

An approver who signed off yesterday's words must see exactly what an edit changed before
signing again. The diff works on tokens that keep their whitespace (`re.findall(r"\\s+|\\S+")`),
so joining the "same" and "removed" segments gives back the old text and joining the "same"
and "added" segments gives back the new one, character for character: nothing an edit did
(a changed line break, a doubled space) is hidden. Parts of a thread are lined up first, so
a part added or removed in the middle shows as that, not as every later part changed.
"""

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from sqlmodel import Session, col, select

from approvals.errors import NotFound
from approvals.models import Post, Revision, RevisionPart
from approvals.posts import MediaRef

SegmentKind = Literal["same", "added", "removed"]
PartStatus = Literal["same", "changed", "added", "removed"]
MediaChangeKind = Literal["added", "removed", "alt_changed"]
_TOKEN = re.compile(r"\s+|\S+")


@dataclass(frozen=True)
class PartWords:
    """One part of a thread as the diff sees it: its text and its images in order."""

    text: str
    media: tuple[MediaRef, ...] = ()

    @classmethod
    def of(cls, text: str, media: Sequence[dict[str, Any]]) -> "PartWords":
        return cls(text, tuple(MediaRef(str(m["sha256"]), m.get("alt_text")) for m in media))


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    text: str


@dataclass(frozen=True)
class MediaChange:
    kind: MediaChangeKind
    sha256: str
    alt_before: str | None = None
    alt_after: str | None = None


@dataclass(frozen=True)
class PartDiff:
    """One part: its number before and after (1-based; None where it does not exist)."""

    status: PartStatus
    before: int | None
    after: int | None
    segments: list[Segment]
    media: list[MediaChange] = field(default_factory=list)
    images_reordered: bool = False  # the same images, in another order


@dataclass(frozen=True)
class RevisionDiff:
    before: int  # revision numbers
    after: int
    parts: list[PartDiff]

    @property
    def changed(self) -> bool:
        return any(p.status != "same" for p in self.parts)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(before: str, after: str) -> list[Segment]:
    """Segments that rebuild `before` (same + removed) and `after` (same + added).

    Whitespace never anchors a match (a kept space would pair unrelated words), but it is
    compared like any token, so a changed line break still shows.
    """
    old, new = tokens(before), tokens(after)
    raw: list[Segment] = []
    matcher = difflib.SequenceMatcher(str.isspace, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            raw.append(Segment("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            raw.append(Segment("removed", "".join(old[i1:i2])))
        if j2 > j1:
            raw.append(Segment("added", "".join(new[j1:j2])))
    return _merged(_absorb_lone_spaces(raw))


def _absorb_lone_spaces(segments: list[Segment]) -> list[Segment]:
    """A lone space kept between two changes is folded into both, so "a b" -> "x y" reads as
    one removal and one addition rather than a patchwork of words and kept spaces."""
    result: list[Segment] = []
    for index, segment in enumerate(segments):
        between_changes = (
            0 < index < len(segments) - 1
            and segments[index - 1].kind != "same"
            and segments[index + 1].kind != "same"
        )
        if segment.kind == "same" and between_changes and not segment.text.strip():
            result += [Segment("removed", segment.text), Segment("added", segment.text)]
        else:
            result.append(segment)
    return result


def _merged(segments: list[Segment]) -> list[Segment]:
    """Adjacent segments of one kind joined, empty ones dropped; in a run of changes every
    removal comes before the additions."""
    result: list[Segment] = []
    run: list[Segment] = []

    def flush() -> None:
        removed = "".join(s.text for s in run if s.kind == "removed")
        added = "".join(s.text for s in run if s.kind == "added")
        if removed:
            result.append(Segment("removed", removed))
        if added:
            result.append(Segment("added", added))
        run.clear()

    for segment in segments:
        if not segment.text:
            continue
        if segment.kind == "same":
            flush()
            if result and result[-1].kind == "same":
                result[-1] = Segment("same", result[-1].text + segment.text)
            else:
                result.append(segment)
        else:
            run.append(segment)
    flush()
    return result


def media_changes(before: Sequence[MediaRef], after: Sequence[MediaRef]) -> list[MediaChange]:
    """Images removed, added, or kept with another alt text."""
    old = {m.sha256: m for m in before}
    new = {m.sha256: m for m in after}
    changes = [MediaChange("removed", m.sha256, alt_before=m.alt_text) for m in old.values()]
    changes = [c for c in changes if c.sha256 not in new]
    for image in new.values():
        previous = old.get(image.sha256)
        if previous is None:
            changes.append(MediaChange("added", image.sha256, alt_after=image.alt_text))
        elif previous.alt_text != image.alt_text:
            changes.append(
                MediaChange("alt_changed", image.sha256, previous.alt_text, image.alt_text)
            )
    return changes


def reordered(before: Sequence[MediaRef], after: Sequence[MediaRef]) -> bool:
    """The images both revisions have are in another order (X shows them in order)."""
    kept = {m.sha256 for m in before} & {m.sha256 for m in after}
    return [m.sha256 for m in before if m.sha256 in kept] != [
        m.sha256 for m in after if m.sha256 in kept
    ]


def diff_parts(before: Sequence[PartWords], after: Sequence[PartWords]) -> list[PartDiff]:
    """Line the parts up (a part inserted in the middle is an addition, not a cascade of
    changes), then diff the words and images of each pair."""
    result: list[PartDiff] = []
    matcher = difflib.SequenceMatcher(None, list(before), list(after), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for offset in range(i2 - i1):
                part = before[i1 + offset]
                same = [Segment("same", part.text)] if part.text else []
                result.append(PartDiff("same", i1 + offset + 1, j1 + offset + 1, same))
            continue
        paired = min(i2 - i1, j2 - j1)
        for offset in range(paired):
            old, new = before[i1 + offset], after[j1 + offset]
            result.append(
                PartDiff(
                    "changed",
                    i1 + offset + 1,
                    j1 + offset + 1,
                    word_diff(old.text, new.text),
                    media_changes(old.media, new.media),
                    reordered(old.media, new.media),
                )
            )
        for index in range(i1 + paired, i2):
            old = before[index]
            removed = [Segment("removed", old.text)] if old.text else []
            images = [MediaChange("removed", m.sha256, alt_before=m.alt_text) for m in old.media]
            result.append(PartDiff("removed", index + 1, None, removed, images))
        for index in range(j1 + paired, j2):
            new = after[index]
            added = [Segment("added", new.text)] if new.text else []
            images = [MediaChange("added", m.sha256, alt_after=m.alt_text) for m in new.media]
            result.append(PartDiff("added", None, index + 1, added, images))
    return result


def words_of(session: Session, post: Post) -> dict[int, list[PartWords]]:
    """Every revision's parts, by revision number, in one query."""
    rows = session.exec(
        select(Revision.number, RevisionPart)
        .join(RevisionPart, col(RevisionPart.revision_id) == col(Revision.id))
        .where(Revision.post_id == post.id)
        .order_by(col(Revision.number), col(RevisionPart.position))
    ).all()
    found: dict[int, list[PartWords]] = {}
    for number, part in rows:
        found.setdefault(number, []).append(PartWords.of(part.text, part.media))
    return found


def diff_revisions(
    session: Session,
    post: Post,
    before: int,
    after: int,
    words: dict[int, list[PartWords]] | None = None,
) -> RevisionDiff:
    """The word diff from revision `before` to revision `after` of one post (`words`: from
    `words_of`, when the caller diffs several pairs)."""
    words = words if words is not None else words_of(session, post)
    for number in (before, after):
        if number not in words:
            raise NotFound(
                f"post {post.id} has no revision {number} (it has 1 to {post.revision_no})"
            )
    return RevisionDiff(before, after, diff_parts(words[before], words[after]))


def successive_diffs(
    session: Session, post: Post, words: dict[int, list[PartWords]] | None = None
) -> list[RevisionDiff]:
    """What each edit changed: revision 1 to 2, 2 to 3, and so on."""
    words = words if words is not None else words_of(session, post)
    numbers = sorted(words)
    return [diff_revisions(session, post, a, b, words) for a, b in pairwise(numbers)]
