"""What `draft` and `edit` refuse before anyone is asked to approve it: images X would refuse,
control characters, more parts than a thread may have. Each refusal is exit status 2 and one
line naming the file or the part and what is wrong, and stores nothing."""

import errno
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from tests.bot.conftest import Cli, every_row
from tests.factories import AUDIT_KEY
from tests.image_files import animated_gif, bilevel_png, image_bytes, sparse_gif
from tests.measure import measured

ALICE = ("--as", "alice@example.org")
DRAFT = ("draft", *ALICE, "-a", "@DeptNews")


def refused(cli: Cli, *args: str, input: str | None = None) -> str:
    """The one line of a refusal with exit status 2, after checking nothing was stored."""
    before = every_row(cli)
    result = cli(*args, input=input)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert every_row(cli) == before
    return line.removeprefix("error: ")


def noise_png(side: int) -> bytes:
    """Random pixels do not compress: a valid PNG of about 3 x side x side bytes."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(buffer, "PNG")
    return buffer.getvalue()


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("notes.png", lambda: b"Meeting notes, not a picture.\n", "not an image X accepts"),
        ("photo.jpg", lambda: os.urandom(4_000_000), "not an image X accepts"),
        ("big.jpg", lambda: os.urandom(50_000_000), "larger than X accepts for any image"),
        ("chart.bmp", lambda: image_bytes(kind="BMP"), "not an image X accepts"),
        ("empty.png", lambda: b"", "the file is empty"),
        ("cut.png", lambda: image_bytes((200, 200))[:-40], "the image data is damaged"),
        ("wide.png", lambda: bilevel_png(9000, 100), "is 9000x100 pixels; X accepts at most"),
        ("dot.png", lambda: image_bytes((2, 2)), "is 2x2 pixels; X needs at least 4x4"),
        ("heavy.png", lambda: noise_png(1400), "is more than X accepts for PNG (5.0 MB)"),
        ("long.gif", lambda: sparse_gif(351, (16, 16)), "at most 350 frames"),
        ("huge.gif", lambda: animated_gif(2, (1300, 100)), "at most 1280x1080 pixels"),
    ],
)
def test_an_image_x_would_refuse_is_refused_at_draft_time(
    cli: Cli, tmp_path: Path, name: str, content: object, problem: str
) -> None:
    path = tmp_path / name
    assert callable(content)
    path.write_bytes(content())
    line = refused(cli, *DRAFT, "--text", "See the picture.", "--image", str(path))
    assert line.startswith(f"{path}: ")
    assert problem in line


def test_a_decompression_bomb_is_refused_from_its_header_at_once(cli: Cli, tmp_path: Path) -> None:
    bomb = tmp_path / "poster.png"
    bomb.write_bytes(bilevel_png(30000, 30000))  # 100 KB claiming 900 million pixels
    with measured() as spent:
        line = refused(cli, *DRAFT, "--text", "Our poster", "--image", str(bomb))
    assert line == (
        f"{bomb}: the image claims more pixels than X accepts (at most 8192x8192); "
        "it was not decoded"
    )
    assert spent.cpu_seconds < 2
    assert spent.peak_bytes < 50_000_000  # the command and the file, not 900 MB of pixels


def test_the_type_comes_from_the_decoded_image_not_the_file_name(cli: Cli, tmp_path: Path) -> None:
    disguised = tmp_path / "chart.png"
    disguised.write_bytes(image_bytes(kind="JPEG"))
    post = cli.json(*DRAFT, "--text", "Chart", "--image", str(disguised), "--alt", "A chart")
    (media,) = post["parts"][0]["media"]
    engine = cli.engine
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT content_type FROM mediaasset WHERE sha256 = :h"), {"h": media["sha256"]}
        ).scalar_one()
    engine.dispose()
    assert stored == "image/jpeg"


def test_every_format_x_takes_is_accepted(cli: Cli, tmp_path: Path) -> None:
    paths = []
    for kind in ("PNG", "JPEG", "WEBP", "GIF"):
        paths += ["--image", str(tmp_path / f"i.{kind.lower()}")]
        Path(paths[-1]).write_bytes(image_bytes(kind=kind))
    post = cli.json(*DRAFT, "--text", "Four images", *paths)
    assert len(post["parts"][0]["media"]) == 4


def test_an_animated_gif_must_be_the_only_image(cli: Cli, tmp_path: Path) -> None:
    gif, png = tmp_path / "wave.gif", tmp_path / "logo.png"
    gif.write_bytes(animated_gif(3))
    png.write_bytes(image_bytes())
    line = refused(cli, *DRAFT, "--text", "Hi", "--image", str(gif), "--image", str(png))
    assert line == "the post: an animated GIF must be the only image in its post on X"
    cli.ok(*DRAFT, "--text", "Hi", "--image", str(gif))


def test_an_unreadable_image_is_named(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    assert refused(cli, *DRAFT, "--text", "x", "--image", str(missing)).startswith(
        f"{missing}: cannot be read"
    )


# --- control characters ----------------------------------------------------------------------


def test_a_nul_is_refused_with_its_position_on_either_database(cli: Cli, tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL in text and SQLite can: both refuse it the same way."""
    file = tmp_path / "post.txt"
    file.write_text("Hello\x00 world")
    assert refused(cli, *DRAFT, "--file", str(file)) == (
        "the post, character 6: U+0000 NULL is a control character, which cannot be posted; "
        "remove it"
    )


@pytest.mark.parametrize(
    ("texts", "problem"),
    [
        (("Fine", "Two \x1b[2Jthree"), "part 2, character 5: U+001B ESCAPE is a control character"),
        (("Approve\rDelete",), "the post, character 8: U+000D CARRIAGE RETURN"),
        (("Bell\x07",), "the post, character 5: U+0007 BELL"),
        (("Next\x85line",), "the post, character 5: U+0085 NEXT LINE"),
        (("Del\x7f",), "the post, character 4: U+007F DELETE"),
    ],
)
def test_control_characters_are_refused_by_part_and_position(
    cli: Cli, texts: tuple[str, ...], problem: str
) -> None:
    args = [arg for t in texts for arg in ("--text", t)]
    assert refused(cli, *DRAFT, *args).startswith(problem)


def test_tabs_line_feeds_and_crlf_line_ends_are_ordinary_text(cli: Cli) -> None:
    post = cli.json(*DRAFT, "--text", "Opening hours:\r\n\tMonday\tto Friday\n")
    assert post["parts"][0]["text"] == "Opening hours:\r\n\tMonday\tto Friday\n"


def test_a_control_character_in_alt_text_is_refused(cli: Cli, tmp_path: Path) -> None:
    image = tmp_path / "chart.png"
    image.write_bytes(image_bytes())
    line = refused(cli, *DRAFT, "--text", "Chart", "--image", str(image), "--alt", "A\x1bchart")
    assert line.startswith("the post, alt text 1, character 2: U+001B ESCAPE")


def test_an_edit_is_held_to_the_same_rules(cli: Cli) -> None:
    post = cli.json(*DRAFT, "--text", "First words")
    line = refused(cli, "edit", str(post["id"]), *ALICE, "--text", "New\x08 words")
    assert line.startswith("the post, character 4: U+0008 BACKSPACE is a control character")


# --- the number of parts ---------------------------------------------------------------------


def test_check_and_draft_agree_on_the_most_parts_a_thread_may_have(cli: Cli) -> None:
    thread = "\n---\n".join(f"Part {n}" for n in range(1, 27))
    message = "a thread may have at most 25 parts (got 26)"
    assert refused(cli, "check", "--thread", "--file", "-", input=thread) == message
    assert refused(cli, *DRAFT, "--file", "-", input=thread) == message
    shorter = thread.rsplit("\n---\n", 1)[0]
    assert cli("check", "--thread", "--file", "-", input=shorter).exit_code == 0
    cli.ok(*DRAFT, "--file", "-", input=shorter)


# --- slow input and the write lock ----------------------------------------------------------


def _open_for_writing_once_read(fifo: Path, deadline: float) -> int:
    """The FIFO's write end, once the drafting process has opened it to read (and blocks)."""
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: nobody reads it yet
            assert exc.errno == errno.ENXIO
            assert time.monotonic() < deadline, "the draft never opened the image"
            time.sleep(0.02)


def test_an_image_still_being_read_does_not_hold_up_another_approver(
    cli: Cli, tmp_path: Path
) -> None:
    """The image arrives slowly (a FIFO the test feeds late). On SQLite a write transaction
    holds the database's one write lock, so if the draft opened it before reading, Bob's
    approval would wait 30 s and fail; the draft reads and decodes first."""
    waiting = cli.json(*DRAFT, "--text", "Already in review.", "--submit")
    fifo = tmp_path / "upload.png"
    os.mkfifo(fifo)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PRESSGATE_DATABASE_URL": cli.settings.database_url,
        "PRESSGATE_CONFIG": str(cli.settings.config),
        "PRESSGATE_AUDIT_KEY": AUDIT_KEY,  # the key the `cli` fixture's log is sealed with
    }
    pressgate = Path(sys.executable).parent / "pressgate"
    slow = subprocess.Popen(
        [str(pressgate), *DRAFT, "--text", "A new chart", "--image", str(fifo), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        writer = _open_for_writing_once_read(fifo, time.monotonic() + 20)
        started = time.monotonic()
        cli.ok("approve", str(waiting["id"]), "--as", "bob@example.org")
        assert time.monotonic() - started < 5
        os.set_blocking(writer, True)
        os.write(writer, image_bytes())
        os.close(writer)
        out, err = slow.communicate(timeout=30)
    finally:
        slow.kill()
    assert slow.returncode == 0, err.decode()
    assert b'"A new chart"' in out
    assert cli.json("show", str(waiting["id"]))["approvals"] == ["bob@example.org"]


def test_a_right_to_left_override_stops_submission_and_nothing_is_stored(cli: Cli) -> None:
    before = every_row(cli)
    result = cli(*DRAFT, "--text", "Pay \u202eyad\u202c now", "--submit")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: post 1 cannot be submitted until its blocking policy findings")
    assert "(text.hidden_characters: 'U+202E RIGHT-TO-LEFT OVERRIDE')" in line
    assert every_row(cli) == before


def test_a_text_file_longer_than_any_thread_is_not_read_whole(cli: Cli, tmp_path: Path) -> None:
    huge = tmp_path / "minutes.txt"
    huge.write_text("word " * 2_000_000)  # 10 MB
    assert refused(cli, *DRAFT, "--file", str(huge)) == (
        f"{huge}: longer than a thread may be (625,125 characters)"
    )
    assert refused(cli, "check", "--file", str(huge)).endswith("(625,125 characters)")
