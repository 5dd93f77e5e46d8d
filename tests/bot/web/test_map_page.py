"""The permission map page: who may do what where, the same answers as `map explain`, the
version in force; for anyone signed in, and never showing staff's personal handles."""

from approvals.map_view import MapView
from tests.bot.conftest import Cli
from tests.bot.web.conftest import Web


def _map(web: Web) -> tuple[str, MapView]:
    page = web.client.get("/map")
    assert page.status_code == 200, page.text
    assert page.template.name == "pages/map.html"
    return page.text, page.context["map"]


def test_anyone_signed_in_sees_who_may_do_what_as_map_explain_says(web: Web, cli: Cli) -> None:
    html, view = _map(web.sign_in("alice@example.org"))
    accounts = {a.handle: a for a in view.accounts}
    assert list(accounts) == ["@DeptNews", "@DeptHelp", "@PermSecPersonal"]
    for handle in ("@DeptNews", "@DeptHelp"):
        explained = cli.json("map", "explain", handle)
        assert dict(accounts[handle].holders) == explained["rights"]
    news = accounts["@DeptNews"]
    assert (news.approvals_required, news.timezone, news.slack_channel) == (
        2,
        "Europe/London",
        "#press-approvals",
    )
    assert news.quiet_hours == "22:00-07:00"
    assert "2 approvals required" in html and "Slack channel: #press-approvals" in html
    assert "bob@example.org, carol@example.org, dana@example.org" in html, "approvers"

    people = {p.email: p for p in view.people}
    for email in ("alice@example.org", "sam@example.org", "hana@example.org"):
        explained = cli.json("map", "explain", email)["rights"]
        shown = {
            ("*" if target == "every corporate account" else target): actions
            for target, actions in people[email].rights
        }
        assert shown == explained
    assert "every corporate account" in html


def test_a_personal_account_says_guidance_only_and_has_no_holders(web: Web) -> None:
    html, view = _map(web.sign_in("bob@example.org"))
    (personal,) = [a for a in view.accounts if a.kind == "personal"]
    assert personal.holders == [] and personal.approvals_required is None
    assert "guidance only, never posted to" in html


def test_staff_personal_handles_are_never_shown(web: Web, cli: Cli) -> None:
    assert "@alice_ahmed" in cli.ok("map", "explain", "alice@example.org").stdout
    html, _ = _map(web.sign_in("dana@example.org"))
    assert "alice_ahmed" not in html


def test_the_version_in_force_is_shown_with_who_applied_it(web: Web, cli: Cli) -> None:
    html, view = _map(web.sign_in("sam@example.org"))
    version = view.version
    assert (version.id, version.applied_by) == (1, "system")
    assert len(version.content_hash) == 64 and version.content_hash in html

    config = cli.settings.config
    config.write_text(
        config.read_text(encoding="utf-8").replace('name = "Hana Ibrahim"', 'name = "Hana I."'),
        encoding="utf-8",
    )
    cli.ok("map", "apply", "--as", "dana@example.org")
    html, view = _map(web)
    assert (view.version.id, view.version.applied_by) == (2, "dana@example.org")
    assert "version 2</strong>, applied by\n  dana@example.org" in html
    assert "Hana I." in html


def test_nobody_signed_in_is_sent_to_sign_in_and_strangers_are_refused(web: Web) -> None:
    answer = web.client.get("/map", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    assert web.sign_in("stranger@example.org").client.get("/map").status_code == 403
