"""The post page: the words of the current revision, its state and why, the schedule in the
account's zone, approvals counted and lapsed, findings, what is on X (or the sandbox), the
revision history with word diffs, the audit trail, and only the actions the viewer may take.
Only people with a right on the post's account see it; for anyone else it does not exist.
Reading it changes nothing."""

from datetime import timedelta
from pathlib import Path

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import Web
from tests.bot.web.post_world import (
    ALICE,
    alert,
    apply_map,
    detail_of,
    drafted,
    on_fake_x,
    publish_due,
    sandbox_settings,
    stray,
    web_with,
)
from tests.image_files import image_bytes

HOUR = timedelta(hours=1)


def test_the_page_shows_every_part_its_images_state_schedule_and_hash(
    web: Web, cli: Cli, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(image_bytes(colour="blue"))
    post = drafted(
        cli,
        "--text",
        "Receipts are up this year.",
        "--text",
        "Details in the annual report.",
        "--image",
        str(chart),
        "--alt",
        "A bar chart of receipts by year",
        "--at",
        "2026-12-01 09:30",
        "--submit",
    )
    page = web.sign_in("bob@example.org").client.get(f"/posts/{post['id']}")
    assert page.status_code == 200
    assert page.template.name == "pages/post.html"
    html = page.text
    assert "Receipts are up this year." in html and "Details in the annual report." in html
    assert "Part 1 of 2" in html and "Part 2 of 2" in html
    assert "A bar chart of receipts by year" in html
    assert '<span class="state state-submitted">submitted</span>' in html
    assert "2026-12-01 09:30 GMT" in html and "(Europe/London)" in html
    assert post["revision_hash"] in html
    assert page.headers["cache-control"] == "no-store", "unpublished words are not cached"

    summer = drafted(cli, "--text", "In summer", "--at", "2027-06-01 09:30")
    html = web.client.get(f"/posts/{summer['id']}").text
    assert "2027-06-01 09:30 BST" in html, "local time with the zone in force that day"


def test_approvals_are_counted_and_those_that_lapsed_say_why(
    web: Web, cli: Cli, tmp_path: Path
) -> None:
    post = drafted(cli, "--text", "Consultation opens today.", "--submit")
    url = f"/posts/{post['id']}"
    cli.ok("approve", str(post["id"]), "--as", "bob@example.org")
    web.sign_in("carol@example.org")
    assert '<strong class="count">1 of 2</strong>' in web.client.get(url).text

    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Consultation opens tomorrow.")
    html = web.client.get(url).text
    assert '<strong class="count">0 of 2</strong>' in html
    assert (
        "bob@example.org approved revision 1; it was edited since (now revision 2), so that "
        "approval no longer counts" in html
    )

    cli.ok("approve", str(post["id"]), "--as", "carol@example.org")
    view = detail_of(web.client.get(url)).view
    assert (view.approvals, view.approvals_required) == (["carol@example.org"], 2)

    apply_map(
        cli,
        tmp_path,
        'slack_id = "U0CAROL01"\nroles = ["approver"]',
        'slack_id = "U0CAROL01"\nroles = ["press_officer"]',
    )
    html = web.client.get(url).text
    assert '<strong class="count">0 of 2</strong>' in html
    assert "carol@example.org no longer may approve on @DeptNews" in html


def test_findings_and_the_reason_for_the_state_are_shown(web: Web, cli: Cli) -> None:
    warned = drafted(cli, "--text", "An exclusive look at the new service.")
    blocked = drafted(cli, "--text", "Call me on 07700 900123 for details.")
    rejected = drafted(cli, "--text", "Helo world", "--submit")
    cli.ok("reject", str(rejected["id"]), "--as", "bob@example.org", "--reason", "Typo: Helo")
    web.sign_in("alice@example.org")

    html = web.client.get(f"/posts/{warned['id']}").text
    assert '<span class="finding-warn">Warning</span>' in html and "exclusive" in html
    html = web.client.get(f"/posts/{blocked['id']}").text
    assert '<span class="finding-block">Blocks publishing</span>' in html
    assert "07700 900123" in html
    html = web.client.get(f"/posts/{rejected['id']}").text
    assert '<span class="state state-rejected">rejected</span>' in html
    assert '<dd class="reason">Typo: Helo</dd>' in html


def test_the_revision_history_lists_every_revision_with_word_diffs(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Our report is out today.")
    cli.clock.advance(timedelta(minutes=5))
    cli.ok("edit", str(post["id"]), "--as", "pat@example.org", "--text", "Our report is out now.")
    cli.clock.advance(timedelta(minutes=5))
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Our annual report is out now.")
    page = web.sign_in("bob@example.org").client.get(f"/posts/{post['id']}")
    history = detail_of(page).revisions
    assert [(r.number, r.author) for r in history] == [
        (1, "alice@example.org"),
        (2, "pat@example.org"),
        (3, "alice@example.org"),
    ]
    html = page.text
    for revision, written in zip(history, ("12:00", "12:05", "12:10"), strict=True):
        assert revision.content_hash in html
        assert f"2026-11-24 {written} GMT" in html
    assert (
        'Our report is out <del><span class="visually-hidden">removed: </span>today.</del>'
        '<ins><span class="visually-hidden">added: </span>now.</ins>' in html
    ), "revision 1 to 2, marked for eyes and for screen readers"
    assert 'Our <ins><span class="visually-hidden">added: </span>annual </ins>report' in html

    chosen = web.client.get(f"/posts/{post['id']}?from=1&to=3")
    comparison = detail_of(chosen).comparison
    assert comparison.diff is not None and (comparison.before, comparison.after) == (1, 3)
    assert "<h4>Revision 1 to revision 3</h4>" in chosen.text


def test_revisions_that_cannot_be_compared_are_said_plainly(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "One.")
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Two.")
    web.sign_in("alice@example.org")
    missing = web.client.get(f"/posts/{post['id']}?from=1&to=9")
    assert missing.status_code == 422
    assert alert(missing.text) == f"post {post['id']} has no revision 9 (it has 1 to 2)"
    garbled = web.client.get(f"/posts/{post['id']}?from=first&to=2")
    assert garbled.status_code == 422
    assert alert(garbled.text) == "choose a revision to compare from (1 to 2)"


def test_the_audit_trail_shows_each_entry_in_words_and_its_door(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Trail me.", "--at", "2026-12-01 09:30")
    web.sign_in("alice@example.org")
    assert web.post(f"/posts/{post['id']}/submit").status_code == 303
    page = web.client.get(f"/posts/{post['id']}")
    trail = [(e.actor, e.action, e.words, e.via) for e in detail_of(page).trail]
    assert trail == [
        (
            "alice@example.org",
            "post.draft",
            f"drafted for @DeptNews as revision 1 (hash {post['revision_hash'][:12]}), "
            "to publish 2026-12-01 09:30 GMT",
            "cli",
        ),
        ("alice@example.org", "post.submitted", "from draft to submitted", "web"),
    ]
    assert "to publish 2026-12-01 09:30 GMT" in page.text and "<td>web</td>" in page.text


def test_a_post_on_x_links_to_it_and_lists_stray_copies(cli: Cli) -> None:
    with on_fake_x(cli) as (fake, settings), web_with(cli, settings) as web:
        post = drafted(cli, "--text", "Out on X.", "--at", "2026-11-24 12:30", account="@DeptHelp")
        cli.ok("submit", str(post["id"]), *ALICE)
        cli.ok("approve", str(post["id"]), "--as", "hana@example.org")
        cli.clock.advance(HOUR)
        assert publish_due(cli, settings) == 1
        x_id = cli.json("show", str(post["id"]))["parts"][0]["x_post_id"]
        assert [p.id for p in fake.posts] == [x_id]

        html = web.sign_in("hana@example.org").client.get(f"/posts/{post['id']}").text
        assert f'href="https://x.com/DeptHelp/status/{x_id}"' in html
        assert "SANDBOX" not in html and "Stray copies" not in html

        stray(cli, post["id"], "1999999999999999999")
        html = web.client.get(f"/posts/{post['id']}").text
        assert "Stray copies on X" in html
        assert "Part 1: 1999999999999999999" in html and "<strong>still on X</strong>" in html


def test_a_post_published_to_the_sandbox_says_so_and_links_nowhere(cli: Cli) -> None:
    settings = sandbox_settings(cli)
    with web_with(cli, settings) as web:
        post = drafted(cli, "--text", "Sandboxed.", "--at", "2026-11-24 12:30", account="@DeptHelp")
        cli.ok("submit", str(post["id"]), *ALICE)
        cli.ok("approve", str(post["id"]), "--as", "hana@example.org")
        cli.clock.advance(HOUR)
        assert publish_due(cli, settings) == 1
        html = web.sign_in("alice@example.org").client.get(f"/posts/{post['id']}").text
        assert '<strong class="sandbox-mark">SANDBOX</strong>' in html
        assert "published to the sandbox: it is not on X" in html
        assert "x.com" not in html


def test_markup_in_words_alt_text_and_reasons_is_shown_escaped(
    web: Web, cli: Cli, tmp_path: Path
) -> None:
    image = tmp_path / "x.png"
    image.write_bytes(image_bytes(colour="green"))
    hostile = '<script>window.pwned=1</script><img src=x onerror="alert(1)">'
    post = drafted(cli, "--text", f"Hi {hostile}", "--image", str(image), "--alt", hostile)
    again = ("--text", f"Hello {hostile} again", "--image", str(image), "--alt", hostile)
    cli.ok("edit", str(post["id"]), *ALICE, *again)
    cli.ok("submit", str(post["id"]), *ALICE)
    cli.ok("reject", str(post["id"]), "--as", "bob@example.org", "--reason", hostile)
    html = web.sign_in("alice@example.org").client.get(f"/posts/{post['id']}").text
    assert "<script>window" not in html and "<img src=x" not in html
    escaped = (
        "&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
    )
    # the words, the alt text, the diff, the state's reason, and the reason in two audit entries
    assert html.count(escaped) == 6


def test_only_people_with_a_right_on_the_account_see_the_post(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "For @DeptNews people only.")
    url = f"/posts/{post['id']}"
    for email in ("alice@example.org", "bob@example.org", "dana@example.org", "sam@example.org"):
        assert web.sign_in(email).client.get(url).status_code == 200, email

    hidden = web.sign_in("hana@example.org").client.get(url)  # approver on @DeptHelp only
    missing = web.client.get("/posts/999")
    assert hidden.status_code == missing.status_code == 404
    assert "For @DeptNews people only." not in hidden.text
    assert alert(hidden.text) == f"post {post['id']} was not found", "as if it did not exist"
    assert alert(missing.text) == "post 999 was not found"
    assert web.client.get("/posts/99999999999999").status_code == 404, "beyond any id: no 500"

    anonymous = web.sign_in(None).client.get(url, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")


def test_the_buttons_shown_follow_the_map_and_the_state(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Buttons.", "--at", "2026-12-01 09:30")
    url = f"/posts/{post['id']}"
    page = web.sign_in("alice@example.org").client.get(url)
    assert detail_of(page).actions == {"edit", "submit", "schedule", "withdraw"}
    html = page.text
    assert f'href="{url}/edit"' in html and f'action="{url}/submit"' in html
    assert 'value="2026-12-01T09:30"' in html, "the schedule, in local time, ready to change"
    assert f'action="{url}/approve"' not in html

    page = web.sign_in("bob@example.org").client.get(url)
    assert detail_of(page).actions == frozenset(), "a draft is not for approvers yet"
    assert "your rights on @DeptNews and the post's state allow none" in page.text

    cli.ok("submit", str(post["id"]), *ALICE)
    page = web.client.get(url)
    assert detail_of(page).actions == {"approve", "reject"}
    assert f'name="revision_hash" value="{post["revision_hash"]}"' in page.text


def test_reading_the_pages_changes_nothing(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Read me.", "--submit")
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Read me twice.")
    before = every_row(cli)
    for email in ("alice@example.org", "bob@example.org", "hana@example.org"):
        web.sign_in(email)
        for url in ("", "?from=1&to=2", "?from=1&to=7", "/review"):
            web.client.get(f"/posts/{post['id']}{url}")
    assert every_row(cli) == before
