"""The audit log page: the chain's verdict on top, filters, pages of 50 newest first, an
export in `pressgate audit export`'s format; open to the strategy lead, admins and duty
officers only."""

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.bot.conftest import Cli
from tests.bot.web.conftest import Web

SAM = ("--as", "sam@example.org")  # duty officer


def _page(web: Web, query: str = "") -> Any:
    page = web.client.get(f"/audit{'?' + query if query else ''}")
    assert page.status_code == 200, page.text
    assert page.template.name == "pages/audit_log.html"
    return page


def _seqs(page: Any) -> list[int]:
    return [row.seq for row in page.context["page"].rows]


def _pause_and_resume(cli: Cli, times: int) -> None:
    for _ in range(times):
        cli.ok("pause", "@DeptHelp", *SAM, "--reason", "drill")
        cli.ok("resume", "@DeptHelp", *SAM)


def test_a_duty_officer_sees_the_verdict_and_the_newest_entries_first(web: Web, cli: Cli) -> None:
    post = cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hi")
    cli.ok("pause", "@DeptNews", *SAM, "--reason", "Checking the <b>feed</b>")
    page = _page(web.sign_in("sam@example.org"))
    verdict = page.context["page"].verified
    assert (verdict.ok, verdict.checked) == (True, 3)
    assert "Intact:" in page.text and "all 3 entries verified" in page.text
    assert _seqs(page) == [3, 2, 1]
    newest = page.context["page"].rows[0]
    assert (newest.actor, newest.action, newest.subject) == (
        "sam@example.org",
        "publishing.pause",
        "account:deptnews",
    )
    assert ("reason", "Checking the <b>feed</b>") in newest.details
    assert "<dt>reason</dt><dd>Checking the &lt;b&gt;feed&lt;/b&gt;</dd>" in page.text
    assert f'<a href="/posts/{post["id"]}">post {post["id"]}</a>' in page.text
    assert "When (UTC)" in page.text and "All times are in UTC" in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("who=alice%40example.org", ["post.submitted", "post.draft", "post.draft"]),
        ("who=SAM%40example.org", ["publishing.resume", "publishing.pause"]),
        ("what=post.", ["post.submitted", "post.draft", "post.draft"]),
        ("what=publishing.pause", ["publishing.pause"]),
        ("what=publishing", []),  # no dot: an exact action, and there is none by that name
        ("what=map.", ["map.load"]),
    ],
)
def test_filters_by_who_and_what(web: Web, cli: Cli, query: str, expected: list[str]) -> None:
    cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "One")
    cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Two")
    cli.ok("submit", "2", "--as", "alice@example.org")
    _pause_and_resume(cli, 1)
    page = _page(web.sign_in("dana@example.org"), query)
    assert [row.action for row in page.context["page"].rows] == expected
    assert page.context["page"].matching == len(expected)


def test_filters_by_post_and_by_utc_days(web: Web, cli: Cli) -> None:
    first = cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "One")
    cli.clock.advance(timedelta(days=2))  # Thursday 26 November
    second = cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Two")
    cli.ok("submit", str(second["id"]), "--as", "alice@example.org")
    web.sign_in("sam@example.org")

    about_second = _page(web, f"post={second['id']}")
    assert [r.action for r in about_second.context["page"].rows] == [
        "post.submitted",
        "post.draft",
    ]
    assert {r.post_id for r in _page(web, f"post={first['id']}").context["page"].rows} == {
        first["id"]
    }
    assert _seqs(_page(web, "from=2026-11-26")) == [4, 3]
    assert _seqs(_page(web, "to=2026-11-25")) == [2, 1]
    assert _seqs(_page(web, "from=2026-11-24&to=2026-11-24")) == [2, 1], "both days included"
    assert _seqs(_page(web, "from=2026-11-25&to=2026-11-25")) == []
    combined = _page(web, "who=alice%40example.org&from=2026-11-26&what=post.")
    assert _seqs(combined) == [4, 3]
    assert "who=alice%40example.org&amp;what=post.&amp;from=2026-11-26" in combined.text, (
        "the export link carries the filters"
    )


def test_pages_of_fifty_newest_first_with_a_link_to_the_next(web: Web, cli: Cli) -> None:
    _pause_and_resume(cli, 30)  # 60 entries after the map's
    first = _page(web.sign_in("sam@example.org"))
    assert _seqs(first) == list(range(61, 11, -1))
    assert first.context["page"].next_before == 12
    assert 'href="/audit?before=12"' in first.text
    cli.ok("pause", "@DeptNews", *SAM)  # a new entry does not shift the pages behind
    second = _page(web, "before=12")
    assert _seqs(second) == list(range(11, 0, -1))
    assert second.context["page"].next_before is None
    assert "Next: older entries" not in second.text
    filtered = _page(web, "what=publishing.resume")
    assert len(filtered.context["page"].rows) == 30 and filtered.context["page"].next_before is None


def _change_entry(cli: Cli, seq: int) -> None:
    engine = cli.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # the owner can lift the log's own triggers
            conn.execute(text("ALTER TABLE auditentry DISABLE TRIGGER USER"))
        conn.execute(
            text("UPDATE auditentry SET actor = 'mallory@example.org' WHERE seq = :seq"),
            {"seq": seq},
        )
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE auditentry ENABLE TRIGGER USER"))
    engine.dispose()


def test_a_changed_entry_is_shown_as_broken(web: Web, cli: Cli) -> None:
    _pause_and_resume(cli, 2)
    _change_entry(cli, 3)
    page = _page(web.sign_in("sam@example.org"))
    verdict = page.context["page"].verified
    assert (verdict.ok, verdict.first_bad_seq, verdict.checked) == (False, 3, 2)
    assert "Broken at entry 3:" in page.text and 'role="alert"' in page.text
    assert "Intact" not in page.text


def test_a_later_load_walks_the_new_entries_and_the_whole_chain_every_ten_minutes(
    web: Web, cli: Cli
) -> None:
    """A growing log costs a load its new entries; an edit to an old one shows at the next
    walk from the start, and the page says when that was."""
    _pause_and_resume(cli, 2)
    first = _page(web.sign_in("sam@example.org")).context["page"].verified
    assert (first.ok, first.checked, first.walked_from) == (True, 5, 1)
    cli.clock.advance(timedelta(minutes=4))
    _pause_and_resume(cli, 1)
    page = _page(web)
    verdict = page.context["page"].verified
    assert (verdict.ok, verdict.checked, verdict.walked_from) == (True, 7, 6)
    assert "Entries 1-5 were walked from the start at" in page.text
    assert "the 2 since then now; the whole chain is walked again every 10 minutes" in page.text
    _change_entry(cli, 3)
    cli.clock.advance(timedelta(minutes=6))
    broken = _page(web).context["page"].verified
    assert (broken.ok, broken.first_bad_seq, broken.walked_from) == (False, 3, 1)


def test_the_export_is_the_cli_export_of_the_matching_entries(web: Web, cli: Cli) -> None:
    cli.json("draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Café ✓")
    _pause_and_resume(cli, 2)
    everything = cli.ok("audit", "export").stdout.splitlines()
    web.sign_in("sam@example.org")

    answer = web.client.get("/audit/export")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="pressgate-audit-20261124T120000Z.jsonl"'
    )
    assert answer.headers["cache-control"] == "no-store"
    assert answer.text.splitlines() == everything

    pauses = web.client.get("/audit/export?what=publishing.pause").text.splitlines()
    assert pauses == [
        line for line in everything if json.loads(line)["action"] == "publishing.pause"
    ]
    assert len(pauses) == 2


@pytest.mark.parametrize("email", ["alice@example.org", "bob@example.org", "hana@example.org"])
def test_officers_and_approvers_may_not_read_it(web: Web, email: str) -> None:
    web.sign_in(email)
    for url in ("/audit", "/audit/export"):
        page = web.client.get(url)
        assert page.status_code == 403
        assert "may not read the audit log" in page.text
        assert "map.load" not in page.text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("post=abc", "'abc' is not a post number"),
        ("from=2026-13-01", "from: '2026-13-01' is not a date"),
        ("from=2026-11-25&to=2026-11-24", "ends (2026-11-24) before it starts"),
        ("before=x", "before: 'x' is not an entry number"),
        ("before=%C2%B2", "before: '²' is not an entry number"),
        ("before=" + "9" * 5000, "is not an entry number"),
        ("post=" + "9" * 5000, "is not a post number"),
    ],
)
def test_a_bad_filter_is_refused_with_a_message(web: Web, query: str, words: str) -> None:
    page = web.sign_in("sam@example.org").client.get(f"/audit?{query}")
    assert page.status_code == 422
    assert words.replace("'", "&#39;") in page.text
