"""The word diff an approver reads before signing again: every change shown, nothing else,
and both revisions can be rebuilt from it exactly."""

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from approvals import posts
from approvals.content.images import check_image
from approvals.diffs import (
    MediaChange,
    PartWords,
    Segment,
    diff_parts,
    diff_revisions,
    successive_diffs,
    word_diff,
)
from approvals.errors import NotFound
from approvals.posts import MediaRef, PartInput
from tests.factories import Org
from tests.image_files import image_bytes

ALICE = "alice@example.org"


def rebuilt(segments: list[Segment]) -> tuple[str, str]:
    before = "".join(s.text for s in segments if s.kind != "added")
    after = "".join(s.text for s in segments if s.kind != "removed")
    return before, after


def test_a_changed_word_is_removed_and_added_and_the_rest_kept() -> None:
    assert word_diff("Our report is out today.", "Our report is out tomorrow.") == [
        Segment("same", "Our report is out "),
        Segment("removed", "today."),
        Segment("added", "tomorrow."),
    ]


def test_a_run_of_changed_words_reads_as_one_removal_and_one_addition() -> None:
    assert word_diff("open on Monday at nine", "open from Tuesday after ten") == [
        Segment("same", "open "),
        Segment("removed", "on Monday at nine"),
        Segment("added", "from Tuesday after ten"),
    ]


def test_whitespace_and_line_breaks_that_change_are_shown() -> None:
    segments = word_diff("one two\nthree", "one  two three")
    assert Segment("removed", " ") in segments and Segment("added", "  ") in segments
    assert Segment("removed", "\n") in segments and Segment("added", " ") in segments


def test_words_added_to_an_empty_text_and_removed_to_nothing() -> None:
    assert word_diff("", "New words") == [Segment("added", "New words")]
    assert word_diff("Old words", "") == [Segment("removed", "Old words")]
    assert word_diff("Same", "Same") == [Segment("same", "Same")]


@given(st.text(max_size=60), st.text(max_size=60))
def test_both_texts_are_rebuilt_exactly_from_the_diff(before: str, after: str) -> None:
    segments = word_diff(before, after)
    assert rebuilt(segments) == (before, after)
    assert all(s.text for s in segments), "no empty segments"
    kinds = [s.kind for s in segments]
    assert all(a != b for a, b in pairwise(kinds)), "neighbours merged"
    assert "added,removed" not in ",".join(kinds), "in a run of changes, removals come first"


WORDS = st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]), max_size=3).map(" ".join)


@given(st.lists(WORDS, max_size=5), st.lists(WORDS, max_size=5))
def test_parts_line_up_so_both_threads_are_rebuilt(before: list[str], after: list[str]) -> None:
    diffs = diff_parts([PartWords(t) for t in before], [PartWords(t) for t in after])
    old = [d for d in diffs if d.status != "added"]
    new = [d for d in diffs if d.status != "removed"]
    assert [d.before for d in old] == list(range(1, len(before) + 1))
    assert [d.after for d in new] == list(range(1, len(after) + 1))
    for d in diffs:
        if d.status == "changed":
            assert d.before is not None and d.after is not None
            assert rebuilt(d.segments) == (before[d.before - 1], after[d.after - 1])


def test_a_part_inserted_in_the_middle_is_an_addition_not_a_cascade() -> None:
    before = [PartWords("One."), PartWords("Three.")]
    after = [PartWords("One."), PartWords("Two."), PartWords("Three.")]
    statuses = [(d.status, d.before, d.after) for d in diff_parts(before, after)]
    assert statuses == [("same", 1, 1), ("added", None, 2), ("same", 2, 3)]


def test_a_removed_part_lists_its_words_and_images_as_removed() -> None:
    chart = MediaRef("c" * 64, "A chart")
    before = [PartWords("Keep."), PartWords("Drop me.", (chart,))]
    (_, removed) = diff_parts(before, [PartWords("Keep.")])
    assert (removed.status, removed.before, removed.after) == ("removed", 2, None)
    assert removed.segments == [Segment("removed", "Drop me.")]
    assert removed.media == [MediaChange("removed", chart.sha256, alt_before="A chart")]


def test_image_changes_are_listed_added_removed_and_alt_text() -> None:
    kept, gone, new = "a" * 64, "b" * 64, "c" * 64
    before = [PartWords("Look.", (MediaRef(kept, "Old alt"), MediaRef(gone, "Gone")))]
    after = [PartWords("Look.", (MediaRef(kept, "New alt"), MediaRef(new, None)))]
    (part,) = diff_parts(before, after)
    assert part.status == "changed"
    assert part.segments == [Segment("same", "Look.")], "the words did not change"
    assert part.media == [
        MediaChange("removed", gone, alt_before="Gone"),
        MediaChange("alt_changed", kept, "Old alt", "New alt"),
        MediaChange("added", new, alt_after=None),
    ]
    assert not part.images_reordered


def test_the_same_images_in_another_order_is_a_change() -> None:
    one, two = MediaRef("1" * 64, "one"), MediaRef("2" * 64, "two")
    (part,) = diff_parts([PartWords("x", (one, two))], [PartWords("x", (two, one))])
    assert part.status == "changed" and part.media == [] and part.images_reordered


def test_revisions_of_a_post_are_diffed_from_the_database(org: Org) -> None:
    now = org.clock.now()
    checked = check_image(image_bytes(), name="photo.png")
    image = posts.store_media(org.session, image=checked, now=now)
    post = org.draft(parts=["First part.", "Second part."])
    assert post.id is not None
    posts.edit(
        org.session,
        actor=org.person(ALICE),
        post_id=post.id,
        parts=[PartInput("First part, edited."), PartInput("Second part.")],
        now=now,
    )
    posts.edit(
        org.session,
        actor=org.person(ALICE),
        post_id=post.id,
        parts=[
            PartInput("First part, edited.", [MediaRef(image.sha256, "A photo")]),
            PartInput("Second part."),
            PartInput("Third part."),
        ],
        now=now,
    )
    first, second = successive_diffs(org.session, post)
    assert (first.before, first.after) == (1, 2)
    assert first.parts[0].segments == [
        Segment("same", "First "),
        Segment("removed", "part."),
        Segment("added", "part, edited."),
    ]
    assert [p.status for p in second.parts] == ["changed", "same", "added"]
    assert second.parts[0].media == [MediaChange("added", image.sha256, alt_after="A photo")]
    whole = diff_revisions(org.session, post, 1, 3)
    assert [p.status for p in whole.parts] == ["changed", "same", "added"]
    assert not diff_revisions(org.session, post, 2, 2).changed


def test_a_revision_the_post_does_not_have_is_named_in_the_error(org: Org) -> None:
    post = org.draft()
    with pytest.raises(NotFound, match=r"has no revision 4 \(it has 1 to 1\)"):
        diff_revisions(org.session, post, 1, 4)
