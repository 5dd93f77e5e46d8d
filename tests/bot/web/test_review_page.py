"""The review page an approver opens from Slack: the exact words and their hash, what changed
since the revision they last decided on, findings, schedule and who has approved, and
Approve / Reject forms bound to the hash shown. It is for the account's approvers (and,
read-only, the post's author); for anyone else it does not exist. Opening it changes
nothing, so a prefetch by Slack or a browser cannot count as "seen"."""

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import Web
from tests.bot.web.post_world import ALICE, alert, drafted, review_of


def review_url(post_id: int) -> str:
    return f"/posts/{post_id}/review"


def test_a_first_look_shows_the_words_hash_findings_schedule_and_no_diff(
    web: Web, cli: Cli
) -> None:
    post = drafted(
        cli, "--text", "An exclusive first look.", "--at", "2026-12-01 09:30", "--submit"
    )
    page = web.sign_in("bob@example.org").client.get(review_url(post["id"]))
    assert page.status_code == 200 and page.template.name == "pages/review.html"
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "An exclusive first look." in html
    assert f'<code class="hash">{post["revision_hash"]}</code>' in html
    assert "This is your first look at this post" in html
    assert review_of(page).diff is None
    assert '<span class="finding-warn">Warning</span>' in html
    assert "2026-12-01 09:30 GMT" in html and "(Europe/London)" in html
    assert '<strong class="count">0 of 2</strong>' in html
    assert f'name="revision_hash" value="{post["revision_hash"]}"' in html
    assert review_of(page).actions == {"approve", "reject"}


def test_after_an_edit_it_shows_the_diff_and_that_the_approval_lapsed(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Applications open on Monday.", "--submit")
    url = review_url(post["id"])
    web.sign_in("bob@example.org")
    answer = web.post(
        f"/posts/{post['id']}/approve",
        {"revision_hash": post["revision_hash"], "back": "review"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == url
    page = web.client.get(url)
    assert "Approved revision 1: 1 of 2 approvals count." in page.text
    assert "You approved this revision (1). Nothing has changed since." in page.text
    assert review_of(page).actions == {"reject"}, "decided: only a change of mind is left"

    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Applications open on Tuesday.")
    page = web.client.get(url)
    html = page.text
    assert "You approved revision 1; it was edited since, so your approval no longer counts" in html
    assert "You last decided on revision 1; this is revision 2." in html
    assert (
        'Applications open on <del><span class="visually-hidden">removed: </span>Monday.</del>'
        '<ins><span class="visually-hidden">added: </span>Tuesday.</ins>' in html
    )
    detail = review_of(page)
    assert detail.diff is not None and (detail.diff.before, detail.diff.after) == (1, 2)
    assert detail.actions == {"approve", "reject"}
    new_hash = detail.view.revision_hash
    assert f'name="revision_hash" value="{new_hash}"' in html

    answer = web.post(f"/posts/{post['id']}/approve", {"revision_hash": new_hash, "back": "review"})
    assert answer.status_code == 303
    assert cli.json("show", str(post["id"]))["approvals"] == ["bob@example.org"]


def test_after_a_rejection_and_an_edit_the_diff_is_against_the_rejected_words(
    web: Web, cli: Cli
) -> None:
    post = drafted(cli, "--text", "We're at the Town Hall all day.", "--submit")
    cli.ok("reject", str(post["id"]), "--as", "carol@example.org", "--reason", "Whereabouts")
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Our event is on all day.")
    cli.ok("submit", str(post["id"]), *ALICE)
    page = web.sign_in("carol@example.org").client.get(review_url(post["id"]))
    assert "You rejected revision 1; it was edited since." in page.text
    detail = review_of(page)
    assert detail.diff is not None and detail.diff.before == 1
    assert detail.last_seen is not None and detail.last_seen.reason == "Whereabouts"
    assert (
        "This is your first look"
        in web.sign_in("bob@example.org").client.get(review_url(post["id"])).text
    ), "bob never decided on it"


def test_it_lists_who_has_approved(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Two approvers needed.", "--submit")
    cli.ok("approve", str(post["id"]), "--as", "carol@example.org")
    page = web.sign_in("bob@example.org").client.get(review_url(post["id"]))
    assert review_of(page).view.approvals == ["carol@example.org"]
    assert "<li>carol@example.org</li>" in page.text
    assert '<strong class="count">1 of 2</strong>' in page.text


def test_the_author_may_read_it_but_not_decide(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "My own words.", "--submit")
    page = web.sign_in("alice@example.org").client.get(review_url(post["id"]))
    assert page.status_code == 200
    assert "You wrote this post, so you cannot approve or reject it" in page.text
    assert review_of(page).actions == frozenset()
    assert "/approve" not in page.text and "/reject" not in page.text


def test_people_who_do_not_approve_on_the_account_get_not_found(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Approvers only.", "--submit")
    url = review_url(post["id"])
    for email in ("pat@example.org", "sam@example.org", "hana@example.org"):
        page = web.sign_in(email).client.get(url)
        assert page.status_code == 404, email
        assert alert(page.text) == f"post {post['id']} was not found"
        assert "Approvers only." not in page.text
    assert web.sign_in("dana@example.org").client.get(url).status_code == 200, "lead approves"
    help_post = drafted(cli, "--text", "For help.", "--submit", account="@DeptHelp")
    assert web.sign_in("hana@example.org").client.get(review_url(help_post["id"])).is_success


def test_opening_it_changes_nothing(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Prefetched by Slack.", "--submit")
    cli.ok("approve", str(post["id"]), "--as", "bob@example.org")
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Prefetched by Slack, twice.")
    before = every_row(cli)
    for email in ("bob@example.org", "carol@example.org", "alice@example.org", "pat@example.org"):
        web.sign_in(email).client.get(review_url(post["id"]))
    assert every_row(cli) == before
    assert (
        "This is your first look"
        in web.sign_in("carol@example.org").client.get(review_url(post["id"])).text
    ), "opening the page is not deciding: it is still carol's first look"


def test_a_stale_approval_sent_from_the_review_page_is_refused_there(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Before.", "--submit")
    web.sign_in("bob@example.org")
    shown = review_of(web.client.get(review_url(post["id"]))).view.revision_hash
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "After.")
    before = every_row(cli)
    answer = web.post(f"/posts/{post['id']}/approve", {"revision_hash": shown, "back": "review"})
    assert answer.status_code == 409 and answer.template.name == "pages/review.html"
    assert "has changed since revision" in alert(answer.text)
    assert "After." in answer.text
    assert every_row(cli) == before
