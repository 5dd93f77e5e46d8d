"""Fixtures for talking to the fake X API with real tweepy, shared by every test that posts."""

from collections.abc import Callable, Iterator

import pytest
import tweepy
from requests_oauthlib import OAuth1

from bot.x_transport import point_session_at
from tests.fakes.fake_x import FakeUser, FakeX

XClientFactory = Callable[..., tweepy.Client]


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    """A fresh fake X API per test; fails the test if the fake itself hit a bug."""
    with FakeX() as fake:
        yield fake
    assert not fake.server_errors, "bug in the fake X server:\n" + "\n".join(fake.server_errors)


@pytest.fixture
def x_client(fake_x: FakeX) -> XClientFactory:
    """`x_client(user, oauth2=False, timeout=1.0)`: a tweepy Client aimed at the fake.

    OAuth 1.0a by default (tweepy's default for posting); `oauth2=True` gives a client with
    the user's OAuth 2.0 access token as bearer token, to be called with `user_auth=False`.
    """

    def make(user: FakeUser, *, oauth2: bool = False, timeout: float = 1.0) -> tweepy.Client:
        if oauth2:
            client = tweepy.Client(bearer_token=user.bearer_token)
        else:
            client = tweepy.Client(
                consumer_key=fake_x.consumer_key,
                consumer_secret=fake_x.consumer_secret,
                access_token=user.access_token,
                access_token_secret=user.access_token_secret,
            )
        point_session_at(client.session, fake_x.base_url, timeout=timeout)
        return client

    return make


@pytest.fixture
def x_oauth1(fake_x: FakeX) -> Callable[[FakeUser], OAuth1]:
    """`x_oauth1(user)`: the requests auth tweepy itself builds for user-context calls, to sign
    requests to endpoints tweepy lacks (v2 media upload) on the same session."""

    def make(user: FakeUser) -> OAuth1:
        handler = tweepy.OAuth1UserHandler(
            fake_x.consumer_key, fake_x.consumer_secret, user.access_token, user.access_token_secret
        )
        auth: OAuth1 = handler.apply_auth()
        return auth

    return make
