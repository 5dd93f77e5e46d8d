"""Characters an approver cannot see: control characters are refused when a post is drafted
or edited, the same way on SQLite and PostgreSQL; bidirectional controls and zero-width
characters are a policy finding unless they are doing their job (emoji sequences, scripts
that need joiners)."""

import pytest
from sqlmodel import select

from approvals import posts
from approvals.content import policy
from approvals.content.hidden_text import find_hidden, refuse_control_characters
from approvals.content.policy_config import PolicyConfig
from approvals.errors import InvalidInput
from approvals.models import AuditEntry, Post
from approvals.posts import PartInput
from tests.factories import Org


@pytest.mark.parametrize(
    ("text", "positions"),
    [
        ("pay\u200bpal", [3]),
        ("Results guar\u200banteed", [12]),
        ("abc \u202eevil\u202c", [4, 9]),
        ("\u2066isolated\u2069", [0, 9]),
        ("word\u2060joiner and soft\u00adhyphen", [4, 20]),
        ("hidden \U000e0041\U000e0042 tags", [7, 8]),
        ("a\ufeffb", [1]),
        ("latin\u200dzwj", [5]),
        ("\u0645\u06cc\u200cabc", [2]),  # a Persian joiner followed by Latin: out of place
    ],
)
def test_hidden_characters_out_of_place_are_found(text: str, positions: list[int]) -> None:
    assert [h.position for h in find_hidden(text)] == positions


@pytest.mark.parametrize(
    "text",
    [
        "Family day 👨\u200d👩\u200d👧\u200d👦 at the office",  # an emoji ZWJ sequence
        "🧑🏽\u200d🚀 and 🏳\ufe0f\u200d🌈",
        "🐦\u200d😀",  # a joiner between two emoji that form no sequence
        "Scotland 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # tag sequence
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: می‌خواهم needs ZWNJ
        "\u0915\u094d\u200d\u0937",  # Devanagari half form with ZWJ
        "\u0d28\u0d4d\u200d",  # Malayalam chillu, old encoding: ZWJ at the end of a word
        "Plain text with \u200e marks \u200f and \u061c",  # direction marks cannot reorder
    ],
)
def test_joiners_doing_their_job_are_not_findings(text: str) -> None:
    assert find_hidden(text) == []


def test_the_finding_names_the_characters_and_blocks_by_default() -> None:
    report = policy.check(["Pay \u202eyad\u202c now", "Results guar\u200b\u200banteed"])
    hidden = [f for f in report.findings if f.rule == "text.hidden_characters"]
    assert [(f.part, f.start, f.end, f.excerpt) for f in hidden] == [
        (0, 4, 5, "U+202E RIGHT-TO-LEFT OVERRIDE"),
        (0, 8, 9, "U+202C POP DIRECTIONAL FORMATTING"),
        (1, 12, 14, "U+200B ZERO WIDTH SPACE"),
    ]
    assert all(f.blocking for f in hidden)
    assert "another order, than X will show" in hidden[0].explanation


@pytest.mark.parametrize("severity", ["warn", "off"])
def test_the_rule_severity_is_configurable(severity: str) -> None:
    rules = PolicyConfig(rules={"text.hidden_characters": severity})  # type: ignore[dict-item]
    report = policy.check(["pay\u200bpal"], policy=rules)
    found = [f.severity for f in report.findings if f.rule == "text.hidden_characters"]
    assert found == ([] if severity == "off" else ["warn"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\x00b", "part 1, character 2: U+0000 NULL is a control character"),
        ("tab\tok\nline\r\nok\x1b", "part 1, character 16: U+001B ESCAPE is a control character"),
        ("lone\rcr", "part 1, character 5: U+000D CARRIAGE RETURN is a control character"),
        ("c1 \x9b", "part 1, character 4: U+009B is a control character"),
        ("half \udc80", "part 1, character 6: U+DC80 is half of a character"),
    ],
)
def test_control_characters_are_refused_with_their_position(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        refuse_control_characters(text, where="part 1")
    assert str(caught.value).startswith(message)


def test_a_nul_is_refused_at_draft_and_edit_on_either_database(org: Org) -> None:
    """PostgreSQL would raise on NUL in text and SQLite would store it: both refuse it first."""
    alice = org.person("alice@example.org")
    entries = len(org.session.exec(select(AuditEntry)).all())
    with pytest.raises(InvalidInput, match="the post, character 5: U\\+0000 NULL"):
        posts.create_draft(
            org.session,
            actor=alice,
            account_handle="@DeptNews",
            parts=[PartInput("Oops\x00")],
            now=org.clock.now(),
        )
    post = org.draft("Clean words")
    assert post.id is not None
    with pytest.raises(InvalidInput, match="part 2, character 1: U\\+0000 NULL"):
        posts.edit(
            org.session,
            actor=alice,
            post_id=post.id,
            parts=[PartInput("Fine"), PartInput("\x00")],
            now=org.clock.now(),
        )
    org.session.commit()
    assert len(org.session.exec(select(Post)).all()) == 1
    assert posts.current_revision(org.session, post).number == 1
    assert len(org.session.exec(select(AuditEntry)).all()) == entries + 1  # the clean draft
