"""The X client's reads and error sorting, through real tweepy against the fake X API."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from approvals.delivery.credentials import XTokens
from approvals.delivery.publisher import OutcomeUnknown, OutgoingPart, RateLimited, Rejected
from bot.x_client import XClient
from tests.fakes.fake_x import FakeUser, FakeX


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        server.timeout_sleep = 1.0
        yield server
    assert not server.server_errors


def client_for(fake: FakeX, user: FakeUser) -> XClient:
    return XClient(
        tokens=XTokens("oauth1", user.access_token, user.access_token_secret),
        x_user_id=user.id,
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
        api_url=fake.base_url,
        timeout=0.5,
    )


def test_me_names_the_account_the_tokens_belong_to(fake: FakeX) -> None:
    user = fake.add_user("DeptNews")
    assert client_for(fake, user).me() == (user.id, "DeptNews")


def test_recent_posts_pages_through_the_timeline_from_a_time(fake: FakeX) -> None:
    user = fake.add_user("DeptNews")
    now = datetime.now(UTC)
    fake.seed_post(user, "too old", created_at=now - timedelta(days=2))
    for n in range(130):
        fake.seed_post(user, f"post {n}", created_at=now - timedelta(minutes=130 - n))
    found = client_for(fake, user).recent_posts(since=now - timedelta(days=1))
    assert len(found) == 130
    assert {p.text for p in found} == {f"post {n}" for n in range(130)}


def test_metrics_come_back_per_post(fake: FakeX) -> None:
    user = fake.add_user("DeptNews")
    client = client_for(fake, user)
    post_id = client.create_post(OutgoingPart(0, "Hello"), reply_to=None)
    fake.set_metrics(post_id, like_count=7, retweet_count=2, impression_count=900)
    metrics = client.metrics([post_id])
    assert metrics[post_id]["like_count"] == 7
    assert metrics[post_id]["impression_count"] == 900


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", RateLimited),
        ("429_no_reset", RateLimited),
        ("500", OutcomeUnknown),
        ("503", OutcomeUnknown),
        ("timeout_before", OutcomeUnknown),
        ("timeout_after", OutcomeUnknown),
        ("reset", OutcomeUnknown),
    ],
)
def test_errors_are_sorted_by_what_they_mean_for_exactly_once(
    fake: FakeX, fault: str, error: type[Exception]
) -> None:
    user = fake.add_user("DeptNews")
    fake.fail_next("POST", "/2/tweets", fault)
    with pytest.raises(error):
        client_for(fake, user).create_post(OutgoingPart(0, "Hello"), reply_to=None)


def test_a_rate_limit_carries_xs_reset_time(fake: FakeX) -> None:
    user = fake.add_user("DeptNews")
    fake.fail_next("POST", "/2/tweets", "429", reset_in=60)
    with pytest.raises(RateLimited) as caught:
        client_for(fake, user).create_post(OutgoingPart(0, "Hello"), reply_to=None)
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(seconds=50)


def test_revoked_tokens_are_a_permanent_refusal(fake: FakeX) -> None:
    user = fake.add_user("DeptNews")
    client = XClient(
        tokens=XTokens("oauth1", user.id + "-revoked", "nope"),
        x_user_id=user.id,
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
        api_url=fake.base_url,
        timeout=0.5,
    )
    with pytest.raises(Rejected, match="401"):
        client.create_post(OutgoingPart(0, "Hello"), reply_to=None)


def test_deleting_a_post_that_is_already_gone_is_not_an_error(fake: FakeX) -> None:
    user = fake.add_user("DeptNews")
    client = client_for(fake, user)
    post_id = client.create_post(OutgoingPart(0, "Bye"), reply_to=None)
    client.delete_post(post_id)
    client.delete_post(post_id)
    assert [p.deleted for p in fake.posts] == [True]
