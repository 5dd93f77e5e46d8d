"""Images are decoded when they are attached: only what X takes, within X's limits, and a
decompression bomb is refused from its header. Stored on SQLite and PostgreSQL with the type
found in the image."""

import pytest
from sqlmodel import select

from approvals import posts
from approvals.content.images import MAX_GIF_PIXELS, check_image
from approvals.errors import InvalidInput
from approvals.models import MediaAsset, Post
from approvals.posts import MediaRef, PartInput
from tests.factories import Org
from tests.image_files import animated_gif, bilevel_png, image_bytes, sparse_gif
from tests.measure import measured


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_each_format_x_takes_is_decoded_with_its_type_and_size(
    kind: str, content_type: str
) -> None:
    checked = check_image(image_bytes((64, 48), kind), name="x.bin")
    assert (checked.content_type, checked.width, checked.height, checked.frames) == (
        content_type,
        64,
        48,
        1,
    )


def test_an_animated_gif_counts_its_frames() -> None:
    assert check_image(animated_gif(12), name="wave.gif").frames == 12


def test_an_animated_gif_past_the_pixel_budget_is_refused_as_it_is_decoded() -> None:
    frames = MAX_GIF_PIXELS // (1280 * 1080) + 1  # 218 frames of the largest size
    check_image(sparse_gif(frames - 1, (1280, 1080)), name="just.gif")
    with pytest.raises(InvalidInput, match="at most 300,000,000 pixels over all its frames"):
        check_image(sparse_gif(frames, (1280, 1080)), name="long.gif")


def test_a_30000_pixel_square_is_refused_without_decoding_it() -> None:
    bomb = bilevel_png(30000, 30000)
    with measured() as spent, pytest.raises(InvalidInput, match="it was not decoded"):
        check_image(bomb, name="bomb.png")
    assert spent.cpu_seconds < 0.5
    assert spent.peak_bytes < 2 * len(bomb) + 1_000_000


def test_just_past_the_largest_side_is_refused_with_the_dimensions() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_image(bilevel_png(8193, 8), name="banner.png")
    assert (
        str(caught.value) == "banner.png: the image is 8193x8 pixels; X accepts at most 8192x8192"
    )


def test_a_stored_image_keeps_the_type_found_in_it(org: Org) -> None:
    checked = check_image(image_bytes(kind="WEBP"), name="photo.jpg")
    asset = posts.store_media(org.session, image=checked, now=org.clock.now())
    assert (asset.content_type, asset.size) == ("image/webp", len(checked.data))
    again = posts.store_media(org.session, image=checked, now=org.clock.now())
    assert again.sha256 == asset.sha256
    assert len(org.session.exec(select(MediaAsset)).all()) == 1


def test_an_animated_gif_cannot_share_its_post_with_another_image(org: Org) -> None:
    now = org.clock.now()
    gif = posts.store_media(org.session, image=check_image(animated_gif(3), name="g"), now=now)
    png = posts.store_media(org.session, image=check_image(image_bytes(), name="p"), now=now)
    with pytest.raises(InvalidInput, match="an animated GIF must be the only image"):
        posts.create_draft(
            org.session,
            actor=org.person("alice@example.org"),
            account_handle="@DeptNews",
            parts=[PartInput("Hi", [MediaRef(gif.sha256, "wave"), MediaRef(png.sha256, "logo")])],
            now=now,
        )
    assert org.session.exec(select(Post)).all() == []
