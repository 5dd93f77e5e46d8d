"""Post commands as an officer and approvers use them: draft, submit, approve, reject, edit,
withdraw, schedule, show, queue. Exit status 1 is a rule's refusal, 2 is bad input."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import Cli
from tests.image_files import image_bytes

ALICE = ("--as", "alice@example.org")


def drafted(cli: Cli, *args: str) -> Any:
    return cli.json("draft", *ALICE, "--account", "@DeptNews", *args)


def test_draft_json_prints_the_new_post_with_id_and_revision_hash(cli: Cli) -> None:
    post = drafted(cli, "--text", "Our annual report is out today.")
    assert post["id"] == 1
    assert post["state"] == "draft"
    assert post["author"] == "alice@example.org"
    assert len(post["revision_hash"]) == 64
    assert post["parts"][0]["text"] == "Our annual report is out today."
    assert cli.json("show", "1")["revision_hash"] == post["revision_hash"]


def test_a_thread_file_is_split_on_dashed_lines(cli: Cli, tmp_path: Path) -> None:
    thread = tmp_path / "thread.txt"
    thread.write_text("First part.\n---\nSecond part,\nwith two lines.\n---\nThird.\n")
    post = drafted(cli, "--file", str(thread))
    assert [p["text"] for p in post["parts"]] == [
        "First part.",
        "Second part,\nwith two lines.",
        "Third.",
    ]


def test_a_thread_can_come_from_standard_input(cli: Cli) -> None:
    result = cli.ok(
        "draft", *ALICE, "-a", "@DeptNews", "--file", "-", "--json", input="One.\n---\nTwo.\n"
    )
    assert '"text": "Two."' in result.stdout


def test_an_image_is_stored_with_its_alt_text(cli: Cli, tmp_path: Path) -> None:
    image = tmp_path / "chart.png"
    image.write_bytes(image_bytes())
    post = drafted(cli, "--text", "See the chart.", "--image", str(image), "--alt", "A bar chart")
    (media,) = post["parts"][0]["media"]
    assert media["alt_text"] == "A bar chart"
    assert media["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()


def test_two_approvals_make_a_scheduled_post_queued(cli: Cli) -> None:
    post = drafted(cli, "--text", "Consultation opens today.", "--at", "2026-12-01 09:30")
    assert post["scheduled_local"].startswith("2026-12-01 09:30")
    cli.ok("submit", str(post["id"]), *ALICE)
    short = post["revision_hash"][:12]

    first = cli.json("approve", str(post["id"]), "--as", "bob@example.org", "--revision", short)
    assert (first["state"], first["approvals"]) == ("submitted", ["bob@example.org"])
    second = cli.json("approve", str(post["id"]), "--as", "carol@example.org")
    assert second["state"] == "queued"
    assert second["approvals"] == ["bob@example.org", "carol@example.org"]

    queued = cli.json("queue", "--state", "queued")
    assert [p["id"] for p in queued] == [post["id"]]


def test_the_author_cannot_approve_their_own_post(cli: Cli) -> None:
    post = drafted(cli, "--text", "Hello", "--submit")
    result = cli("approve", str(post["id"]), *ALICE)
    assert result.exit_code == 1
    assert "alice@example.org" in result.stderr
    assert cli.json("show", str(post["id"]))["approvals"] == []


def test_approving_words_other_than_the_current_ones_is_refused(cli: Cli) -> None:
    post = drafted(cli, "--text", "Hello", "--submit")
    old = post["revision_hash"]
    edited = cli.json("edit", str(post["id"]), *ALICE, "--text", "Hello again")
    assert edited["state"] == "submitted", "an edit keeps a submitted post in review"
    result = cli("approve", str(post["id"]), "--as", "bob@example.org", "--revision", old[:10])
    assert result.exit_code == 1
    assert cli.json("show", str(post["id"]))["approvals"] == []


def test_someone_without_the_approve_right_on_the_account_is_refused(cli: Cli) -> None:
    post = drafted(cli, "--text", "Hello", "--submit")
    result = cli("approve", str(post["id"]), "--as", "hana@example.org")  # help account only
    assert result.exit_code == 1
    assert "approve" in result.stderr


def test_a_rejection_carries_its_reason_and_an_edit_reopens_the_post(cli: Cli) -> None:
    post = drafted(cli, "--text", "Helo world", "--submit")
    rejected = cli.json(
        "reject", str(post["id"]), "--as", "bob@example.org", "--reason", "Typo in 'Helo'"
    )
    assert rejected["state"] == "rejected"
    assert rejected["state_reason"] == "Typo in 'Helo'"
    assert "reason: Typo in 'Helo'" in cli.ok("show", str(post["id"])).stdout

    edited = cli.json("edit", str(post["id"]), *ALICE, "--text", "Hello world")
    assert edited["state"] == "draft"
    assert edited["revision"] == 2
    assert cli.json("submit", str(post["id"]), *ALICE)["state"] == "submitted"


def test_an_edit_against_a_stale_revision_is_refused(cli: Cli) -> None:
    post = drafted(cli, "--text", "One")
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Two")
    result = cli(
        "edit", str(post["id"]), *ALICE, "--text", "Three", "--revision", post["revision_hash"]
    )
    assert result.exit_code == 1
    assert cli.json("show", str(post["id"]))["parts"][0]["text"] == "Two"


def test_withdrawn_posts_leave_the_queue(cli: Cli) -> None:
    post = drafted(cli, "--text", "Never mind", "--submit")
    withdrawn = cli.json("withdraw", str(post["id"]), *ALICE, "--reason", "Superseded")
    assert withdrawn["state"] == "withdrawn"
    assert cli.json("queue") == []
    assert "the queue is empty" in cli.ok("queue").stdout
    assert cli("submit", str(post["id"]), *ALICE).exit_code == 1


def test_the_queue_table_shows_each_post_soonest_first(cli: Cli) -> None:
    later = drafted(cli, "--text", "Later post", "--at", "2026-12-02 10:00")
    sooner = drafted(cli, "--text", "Sooner post", "--at", "2026-12-01 10:00")
    assert [p["id"] for p in cli.json("queue")] == [sooner["id"], later["id"]]
    table = cli.ok("queue", "--account", "@DeptNews").stdout
    assert table.index("Sooner post") < table.index("Later post")


def test_rescheduling_keeps_approvals_because_the_words_are_unchanged(cli: Cli) -> None:
    post = drafted(cli, "--text", "Deadline reminder", "--submit")
    cli.ok("approve", str(post["id"]), "--as", "bob@example.org")
    cli.ok("approve", str(post["id"]), "--as", "carol@example.org")
    moved = cli.json("schedule", str(post["id"]), *ALICE, "--at", "2026-12-03 08:00")
    assert moved["state"] == "queued"
    assert len(moved["approvals"]) == 2
    assert cli.json("schedule", str(post["id"]), *ALICE, "--clear")["state"] == "approved"


@pytest.mark.parametrize(
    ("at", "message"),
    [
        pytest.param("2027-03-28 01:30", "does not exist", id="spring-forward gap"),
        pytest.param("2027-10-31 01:30", "happens twice", id="autumn ambiguity"),
        pytest.param("2026-11-01 09:00", "in the past", id="past"),
        pytest.param("next tuesday", "YYYY-MM-DD HH:MM", id="unparseable"),
    ],
)
def test_an_impossible_local_time_is_bad_input_and_creates_nothing(
    cli: Cli, at: str, message: str
) -> None:
    result = cli("draft", *ALICE, "-a", "@DeptNews", "--text", "Hi", "--at", at)
    assert result.exit_code == 2
    assert message in result.stderr
    assert cli.json("queue") == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(
            ("draft", "--as", "mallory@example.org", "-a", "@DeptNews", "--text", "Hi"),
            2,
            "mallory@example.org",
            id="unknown person",
        ),
        pytest.param(
            ("draft", *ALICE, "-a", "@PermSecPersonal", "--text", "Hi"),
            1,
            "personal",
            id="personal account",
        ),
        pytest.param(
            ("draft", *ALICE, "-a", "@Nowhere", "--text", "Hi"),
            2,
            "@Nowhere",
            id="unknown account",
        ),
        pytest.param(("draft", *ALICE, "-a", "@DeptNews"), 2, "--text", id="no text"),
        pytest.param(("approve", "99", "--as", "bob@example.org"), 2, "99", id="no such post"),
        pytest.param(
            ("draft", "--as", "bob@example.org", "-a", "@DeptNews", "--text", "Hi"),
            1,
            "draft",
            id="approver may not draft",
        ),
    ],
)
def test_refusals_and_bad_input_exit_non_zero_and_change_nothing(
    cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    before = cli.json("audit", "verify")["checked"]
    result = cli(*args)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stdout == ""
    assert cli.json("audit", "verify")["checked"] == before


def test_pause_and_resume_need_the_pause_right_and_are_audited(cli: Cli) -> None:
    refused = cli("pause", "@DeptNews", "--as", "alice@example.org")
    assert refused.exit_code == 1
    cli.ok("pause", "--all", "--as", "sam@example.org", "--reason", "Major incident")
    assert cli("pause", "--all", "--as", "sam@example.org").exit_code == 1, "already paused"
    asked = cli.ok("resume", "--all", "--as", "sam@example.org").stdout
    assert "a second person with the pause right must confirm" in asked
    assert cli("resume", "--all", "--as", "sam@example.org").exit_code == 1, "not twice alone"
    assert (
        "resumed: all publishing (asked by sam@example.org)"
        in cli.ok("resume", "--all", "--as", "lee@example.org").stdout
    )
    assert cli("pause", "--as", "sam@example.org").exit_code == 2, "an account or --all"
    exported = cli.ok("audit", "export").stdout
    assert '"action":"publishing.pause"' in exported
    assert '"action":"publishing.resume"' in exported


def test_a_personal_account_can_never_be_connected_to_x(cli: Cli) -> None:
    result = cli(
        "accounts",
        "connect",
        "@PermSecPersonal",
        "--as",
        "dana@example.org",
        "--tokens-from",
        "-",
        input='{"access_token": "x", "refresh_token": "y"}',
    )
    assert result.exit_code == 1
    assert "can never be connected" in result.stderr


def test_a_queue_longer_than_one_page_says_so_and_pages(cli: Cli) -> None:
    ids = [
        drafted(cli, "--text", f"Post {n}", "--at", f"2026-12-0{n} 10:00")["id"] for n in (1, 2, 3)
    ]
    first = cli.ok("queue", "--limit", "2", "--json")
    assert [p["id"] for p in json.loads(first.stdout)] == ids[:2]
    assert "showing posts 1-2 of 3; for the next ones: --offset 2" in first.stderr
    rest = cli.ok("queue", "--limit", "2", "--offset", "2", "--json")
    assert [p["id"] for p in json.loads(rest.stdout)] == ids[2:]
    assert rest.stderr == ""
    assert [p["id"] for p in cli.json("queue", "--limit", "0")] == ids
    assert "of 3" in cli.ok("queue", "--limit", "1").stderr
