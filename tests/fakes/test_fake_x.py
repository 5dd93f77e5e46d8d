"""Real tweepy against the fake X API, to show the fake answers the way X does.

Publishing tests are only as good as this fake: each test here pins one behaviour of the
real API (or of tweepy reading it) that pressgate depends on, so a drift in either shows up
here first rather than as a mysterious failure in a publishing test.
"""

import hashlib
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import tweepy
from requests_oauthlib import OAuth1

from bot.x_transport import RedirectAdapter, point_session_at
from tests.fakes.fake_x import DUPLICATE, METRICS, FakeUser, FakeX

REPO = Path(__file__).resolve().parents[2]
ClientFactory = Callable[..., tweepy.Client]


def app_client(fake: FakeX) -> tweepy.Client:
    """App-only bearer token: read endpoints only, like a real app token."""
    client = tweepy.Client(bearer_token=fake.app_bearer_token)
    point_session_at(client.session, fake.base_url, timeout=1.0)
    return client


# -- posting ----------------------------------------------------------------------------------


def test_create_post_with_oauth1(fake_x: FakeX, x_client: ClientFactory) -> None:
    user = fake_x.add_user("pressoffice")
    data = x_client(user).create_tweet(text="Hello from the press office").data

    post_id = data["id"]
    assert data == {
        "id": post_id,
        "text": "Hello from the press office",
        "edit_history_tweet_ids": [post_id],
    }
    assert int(post_id) > 10**18  # snowflake-sized, so code never assumes small ids
    [post] = fake_x.posts
    assert (post.id, post.author_id, post.text, post.reply_to) == (
        post_id,
        user.id,
        "Hello from the press office",
        None,
    )
    assert not post.deleted
    [request] = fake_x.requests
    assert (request.method, request.path, request.status, request.user_id) == (
        "POST",
        "/2/tweets",
        201,
        user.id,
    )


def test_reply_thread_and_delete(fake_x: FakeX, x_client: ClientFactory) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    ids: list[str] = []
    for part in range(3):
        reply_to = ids[-1] if ids else None
        ids.append(
            client.create_tweet(text=f"Part {part + 1}/3", in_reply_to_tweet_id=reply_to).data["id"]
        )

    assert [p.reply_to for p in fake_x.posts] == [None, ids[0], ids[1]]
    assert ids == sorted(ids, key=int)
    assert fake_x.posts[0].metrics["reply_count"] == 1

    assert client.delete_tweet(ids[2]).data == {"deleted": True}
    assert [p.deleted for p in fake_x.posts] == [False, False, True]
    with pytest.raises(tweepy.NotFound):
        client.delete_tweet(ids[2])
    with pytest.raises(tweepy.Forbidden, match="deleted or not visible"):
        client.create_tweet(text="Reply to a deleted post", in_reply_to_tweet_id=ids[2])
    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="Reply to nothing", in_reply_to_tweet_id="1234567890123456789")


def test_only_the_author_may_delete(fake_x: FakeX, x_client: ClientFactory) -> None:
    post_id = x_client(fake_x.add_user("author")).create_tweet(text="Mine").data["id"]
    with pytest.raises(tweepy.Forbidden):
        x_client(fake_x.add_user("stranger")).delete_tweet(post_id)
    assert not fake_x.posts[0].deleted


def test_oauth2_user_token_with_user_auth_false(fake_x: FakeX, x_client: ClientFactory) -> None:
    user = fake_x.add_user("newsroom", name="The Newsroom")
    client = x_client(user, oauth2=True)

    me = client.get_me(user_auth=False).data
    assert (str(me.id), me.username, me.name) == (user.id, "newsroom", "The Newsroom")
    post_id = client.create_tweet(text="Posted with OAuth 2.0", user_auth=False).data["id"]
    assert fake_x.posts[0].author_id == user.id
    client.delete_tweet(post_id, user_auth=False)
    assert fake_x.posts[0].deleted


def test_app_only_token_reads_but_cannot_post(fake_x: FakeX, x_client: ClientFactory) -> None:
    post_id = x_client(fake_x.add_user("pressoffice")).create_tweet(text="Public").data["id"]
    app = app_client(fake_x)
    assert app.get_tweets([post_id]).data[0].text == "Public"
    with pytest.raises(tweepy.Forbidden, match="Application-Only is forbidden"):
        app.create_tweet(text="As the app", user_auth=False)


@pytest.mark.parametrize("wrong", ["access_token", "consumer_key", "bearer_token"])
def test_bad_credentials_are_unauthorized(fake_x: FakeX, wrong: str) -> None:
    user = fake_x.add_user("pressoffice")
    if wrong == "bearer_token":
        client = tweepy.Client(bearer_token="not-a-token")
    else:
        client = tweepy.Client(
            consumer_key="wrong" if wrong == "consumer_key" else fake_x.consumer_key,
            consumer_secret=fake_x.consumer_secret,
            access_token=f"{user.id}-revoked" if wrong == "access_token" else user.access_token,
            access_token_secret=user.access_token_secret,
        )
    point_session_at(client.session, fake_x.base_url, timeout=1.0)

    with pytest.raises(tweepy.Unauthorized) as caught:
        client.create_tweet(text="Nope", user_auth=wrong != "bearer_token")
    assert caught.value.api_messages == ["Unauthorized"]
    assert fake_x.posts == []


def test_duplicate_content_is_forbidden(fake_x: FakeX, x_client: ClientFactory) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    first = client.create_tweet(text="Same words").data["id"]

    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="Same words")
    assert caught.value.api_messages == [DUPLICATE]
    assert DUPLICATE == "You are not allowed to create a Tweet with duplicate content."
    assert caught.value.api_codes == []
    assert caught.value.response.json() == {
        "detail": DUPLICATE,
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }

    # Per account, and only against posts still up.
    x_client(fake_x.add_user("colleague")).create_tweet(text="Same words")
    client.delete_tweet(first)
    client.create_tweet(text="Same words")
    assert fake_x.posts_by_text() == Counter({"Same words": 2})
    assert fake_x.posts_by_text(include_deleted=True) == Counter({"Same words": 3})


def test_invalid_posts_are_bad_requests(fake_x: FakeX, x_client: ClientFactory) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    with pytest.raises(tweepy.BadRequest) as caught:
        client.create_tweet(text="")
    assert caught.value.api_messages == ["Post text or media is required."]
    assert client.session.get("https://api.twitter.com/2/nowhere").status_code == 404
    assert fake_x.posts == []


# -- failures ---------------------------------------------------------------------------------


def test_rate_limited_with_and_without_reset(fake_x: FakeX, x_client: ClientFactory) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    fake_x.fail_next("POST", "/2/tweets", "429", reset_in=30)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.create_tweet(text="Too soon")
    reset = int(caught.value.response.headers["x-rate-limit-reset"])
    assert caught.value.reset_time == reset
    assert time.time() + 28 < reset <= time.time() + 31
    assert caught.value.response.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    assert fake_x.posts == []

    client.create_tweet(text="Too soon")  # the fault is used up
    fake_x.fail_next("POST", "/2/tweets", "429_no_reset")
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.create_tweet(text="Again")
    assert caught.value.reset_time is None
    assert "x-rate-limit-reset" not in caught.value.response.headers


@pytest.mark.parametrize(
    ("kind", "codes", "messages"),
    [("500", [131], ["Internal error"]), ("503", [], ["Service Unavailable"])],
)
def test_server_errors(
    fake_x: FakeX, x_client: ClientFactory, kind: str, codes: list[int], messages: list[str]
) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    fake_x.fail_next("POST", "/2/tweets", kind)
    with pytest.raises(tweepy.TwitterServerError) as caught:
        client.create_tweet(text="Server trouble")
    assert caught.value.response.status_code == int(kind)
    assert (caught.value.api_codes, caught.value.api_messages) == (codes, messages)
    assert fake_x.posts == []


def test_timeout_after_the_post_was_made(fake_x: FakeX, x_client: ClientFactory) -> None:
    """The ambiguous outcome: the client saw a timeout, yet the post is up."""
    fake_x.timeout_sleep = 1.0
    client = x_client(fake_x.add_user("pressoffice"), timeout=0.3)
    fake_x.fail_next("POST", "/2/tweets", "timeout_after")

    with pytest.raises(requests.exceptions.ReadTimeout):
        client.create_tweet(text="Did it go out?")
    assert [p.text for p in fake_x.posts] == ["Did it go out?"]
    last = fake_x.requests[-1]
    assert (last.status, last.fault, last.user_id) == (
        None,
        "timeout_after",
        fake_x.posts[0].author_id,
    )
    with pytest.raises(tweepy.Forbidden):  # a blind retry meets the duplicate-content rule
        client.create_tweet(text="Did it go out?")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("timeout_before", requests.exceptions.ReadTimeout),
        ("reset", requests.exceptions.ConnectionError),
    ],
)
def test_failures_before_the_post(
    fake_x: FakeX, x_client: ClientFactory, kind: str, error: type[Exception]
) -> None:
    fake_x.timeout_sleep = 1.0
    client = x_client(fake_x.add_user("pressoffice"), timeout=0.3)
    fake_x.fail_next("POST", "/2/tweets", kind)
    with pytest.raises(error):
        client.create_tweet(text="Lost on the way")
    assert fake_x.posts == []
    assert (fake_x.requests[-1].status, fake_x.requests[-1].fault) == (None, kind)
    client.create_tweet(text="Lost on the way")  # the session recovers on a new connection
    assert len(fake_x.posts) == 1


def test_latency_longer_than_the_timeout_is_also_ambiguous(
    fake_x: FakeX, x_client: ClientFactory
) -> None:
    user = fake_x.add_user("pressoffice")
    fake_x.latency = 0.5
    started = time.monotonic()
    x_client(user).create_tweet(text="Slow but fine")
    assert time.monotonic() - started >= 0.5

    with pytest.raises(requests.exceptions.ReadTimeout):
        x_client(user, timeout=0.2).create_tweet(text="Slower than my patience")
    deadline = time.monotonic() + 3
    while len(fake_x.posts) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.text for p in fake_x.posts] == ["Slow but fine", "Slower than my patience"]


def test_chaos_is_seeded_and_only_hits_post_tweets(fake_x: FakeX) -> None:
    def run(fake: FakeX) -> list[str]:
        user = fake.add_user("pressoffice")
        client = tweepy.Client(
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
            access_token=user.access_token,
            access_token_secret=user.access_token_secret,
        )
        point_session_at(client.session, fake.base_url, timeout=1.0)
        fake.chaos(0.5, ["429", "500", "503"], seed=7)
        outcomes = []
        for n in range(30):
            try:
                client.create_tweet(text=f"Chaos {n}")
                outcomes.append("ok")
            except tweepy.HTTPException as exc:
                outcomes.append(str(exc.response.status_code))
        assert str(client.get_me().data.id) == user.id  # reads are untouched; ids arrive as int
        assert len(fake.posts) == outcomes.count("ok")
        return outcomes

    first = run(fake_x)
    with FakeX() as other:
        assert run(other) == first
    assert set(first) == {"ok", "429", "500", "503"}


def test_rate_limit_headers_on_every_response(fake_x: FakeX, x_client: ClientFactory) -> None:
    user = fake_x.add_user("pressoffice")
    client = x_client(user)
    client.return_type = requests.Response
    answers = [client.create_tweet(text=f"Counting {n}") for n in range(2)]
    answers.append(client.session.get("https://api.twitter.com/2/users/me"))  # 401: unsigned
    for answer in answers:
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(
            answer.headers
        )
    assert [a.headers["x-rate-limit-remaining"] for a in answers[:2]] == ["99", "98"]
    assert time.time() < int(answers[0].headers["x-rate-limit-reset"]) <= time.time() + 900


def test_enforced_rate_limit(fake_x: FakeX, x_client: ClientFactory) -> None:
    fake_x.enforce_rate_limits = True
    client = x_client(fake_x.add_user("pressoffice"))
    for n in range(100):
        client.create_tweet(text=f"Post {n}")
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.create_tweet(text="Post 100")
    assert caught.value.reset_time is not None
    assert len(fake_x.posts) == 100


def test_concurrent_posts_are_each_recorded_once(fake_x: FakeX, x_client: ClientFactory) -> None:
    users = [fake_x.add_user(f"account{n}") for n in range(4)]

    def post_all(user: FakeUser) -> None:
        client = x_client(user)
        for n in range(10):
            client.create_tweet(text=f"{user.username} #{n}")

    threads = [threading.Thread(target=post_all, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    counts = fake_x.posts_by_text()
    assert len(counts) == 40 and set(counts.values()) == {1}
    ids = [int(p.id) for p in fake_x.posts]
    assert len(set(ids)) == 40 and ids == sorted(ids)
    assert [r.status for r in fake_x.requests] == [201] * 40


# -- reading ----------------------------------------------------------------------------------


def test_users_tweets_filters_and_paginates(fake_x: FakeX, x_client: ClientFactory) -> None:
    user = fake_x.add_user("pressoffice")
    base = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    seeded = [
        fake_x.seed_post(user, f"Post {n}", created_at=base + timedelta(minutes=n))
        for n in range(12)
    ]
    fake_x.seed_post(fake_x.add_user("other"), "Not mine", created_at=base)
    client = x_client(user)
    start = base + timedelta(minutes=4)

    page = client.get_users_tweets(
        user.id, start_time=start, max_results=5, tweet_fields=["created_at"], user_auth=True
    )
    assert [t.text for t in page.data] == [f"Post {n}" for n in range(11, 6, -1)]
    assert page.data[0].created_at == base + timedelta(minutes=11)
    assert page.meta["result_count"] == 5
    assert (page.meta["newest_id"], page.meta["oldest_id"]) == (seeded[11].id, seeded[7].id)
    assert "next_token" in page.meta

    paginator = tweepy.Paginator(
        client.get_users_tweets, user.id, start_time=start, max_results=5, user_auth=True
    )
    assert [p.meta["result_count"] for p in paginator] == [5, 3]
    assert [t.text for t in paginator.flatten()] == [f"Post {n}" for n in range(11, 3, -1)]

    def texts(**params: object) -> list[str]:
        found = client.get_users_tweets(user.id, max_results=5, user_auth=True, **params)
        return [t.text for t in found.data or []]

    assert texts(since_id=seeded[9].id) == ["Post 11", "Post 10"]
    assert texts(end_time=base + timedelta(minutes=1)) == ["Post 1", "Post 0"]
    assert texts(start_time=base + timedelta(hours=1)) == []
    client.delete_tweet(seeded[11].id)
    assert texts(since_id=seeded[9].id) == ["Post 10"]
    for size in (4, 101):
        with pytest.raises(tweepy.BadRequest):
            client.get_users_tweets(user.id, max_results=size, user_auth=True)


def test_get_tweets_with_public_metrics(fake_x: FakeX, x_client: ClientFactory) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    post_id = client.create_tweet(text="How did it do?").data["id"]
    fake_x.set_metrics(post_id, like_count=7, impression_count=1200)

    found = client.get_tweets(
        [post_id, "1234567890123456789"], tweet_fields=["public_metrics"], user_auth=True
    )
    [tweet] = found.data
    assert tweet.public_metrics == {
        **dict.fromkeys(METRICS, 0),
        "like_count": 7,
        "impression_count": 1200,
    }
    [error] = found.errors
    assert (error["resource_id"], error["title"]) == ("1234567890123456789", "Not Found Error")
    with pytest.raises(ValueError):
        fake_x.set_metrics(post_id, likes=1)
    with pytest.raises(tweepy.BadRequest):
        client.get_tweets([str(n) for n in range(101)], user_auth=True)


# -- media and tokens -------------------------------------------------------------------------


def test_media_upload_alt_text_and_post(
    fake_x: FakeX, x_client: ClientFactory, x_oauth1: Callable[[FakeUser], OAuth1]
) -> None:
    user = fake_x.add_user("pressoffice")
    client = x_client(user)
    image = bytes(range(256)) * 40 + b"\r\n--looks-like-a-boundary\r\n\r\n"
    upload = client.session.post(
        "https://api.twitter.com/2/media/upload",
        files={"media": ("chart.png", image, "image/png")},
        data={"media_category": "tweet_image"},
        auth=x_oauth1(user),
    )
    assert upload.status_code == 200, upload.text
    media = upload.json()["data"]
    media_id = media["id"]
    assert media == {
        "id": media_id,
        "media_key": f"3_{media_id}",
        "size": len(image),
        "expires_after_secs": 86400,
    }

    def set_alt(text: str) -> requests.Response:
        body = {"id": media_id, "metadata": {"alt_text": {"text": text}}}
        session: requests.Session = client.session
        return session.post(
            "https://api.twitter.com/2/media/metadata", json=body, auth=x_oauth1(user)
        )

    assert set_alt("Bar chart of weekly reach").json()["data"] == {
        "id": media_id,
        "associated_metadata": {"alt_text": {"text": "Bar chart of weekly reach"}},
    }
    assert set_alt("x" * 1001).status_code == 400
    [record] = fake_x.media
    assert record.sha256 == hashlib.sha256(image).hexdigest()
    assert (record.owner_id, record.alt_text, record.content_type, record.media_category) == (
        user.id,
        "Bar chart of weekly reach",
        "image/png",
        "tweet_image",
    )

    client.create_tweet(text="With a chart", media_ids=[media_id])
    assert fake_x.posts[0].media_ids == [media_id]
    with pytest.raises(tweepy.BadRequest):
        x_client(fake_x.add_user("stranger")).create_tweet(text="Borrowed", media_ids=[media_id])
    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="Too many pictures", media_ids=[media_id] * 5)


def test_refresh_token_flow(fake_x: FakeX, x_client: ClientFactory) -> None:
    user = fake_x.add_user("newsroom")
    first_refresh = user.refresh_token
    fake_x.expire_access_token(user)
    with pytest.raises(tweepy.Unauthorized):
        x_client(user, oauth2=True).create_tweet(text="Expired", user_auth=False)

    token_url = fake_x.base_url + "/2/oauth2/token"
    form = {"grant_type": "refresh_token", "refresh_token": first_refresh}
    answer = requests.post(token_url, data=form, auth=(fake_x.client_id, "secret"), timeout=1)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert set(tokens) == {"token_type", "expires_in", "scope", "access_token", "refresh_token"}
    assert tokens["token_type"] == "bearer" and tokens["refresh_token"] != first_refresh
    assert (user.bearer_token, user.refresh_token) == (
        tokens["access_token"],
        tokens["refresh_token"],
    )
    x_client(user, oauth2=True).create_tweet(text="Fresh token", user_auth=False)

    spent = requests.post(token_url, data={**form, "client_id": fake_x.client_id}, timeout=1)
    assert (spent.status_code, spent.json()["error"]) == (400, "invalid_request")
    no_client = {**form, "refresh_token": user.refresh_token}
    assert requests.post(token_url, data=no_client, timeout=1).status_code == 401

    # tweepy's own handler (a requests-oauthlib OAuth2Session) refreshes through the adapter.
    handler = tweepy.OAuth2UserHandler(
        client_id=fake_x.client_id,
        redirect_uri="https://pressgate.example/callback",
        scope=["tweet.read", "tweet.write", "users.read", "offline.access"],
        client_secret=fake_x.client_secret,
    )
    point_session_at(handler, fake_x.base_url, timeout=1.0)
    renewed = handler.refresh_token(
        "https://api.x.com/2/oauth2/token", refresh_token=user.refresh_token
    )
    assert renewed["access_token"] == user.bearer_token


# -- transport and running standalone ----------------------------------------------------------


def test_point_session_at_covers_every_x_host(fake_x: FakeX) -> None:
    user = fake_x.add_user("pressoffice")
    session = requests.Session()
    point_session_at(session, fake_x.base_url, timeout=0.3)
    headers = {"Authorization": f"Bearer {user.bearer_token}"}
    for host in ("https://api.twitter.com", "https://api.x.com", "https://upload.twitter.com"):
        assert session.get(f"{host}/2/users/me", headers=headers).json()["data"]["id"] == user.id

    fake_x.timeout_sleep = 1.0
    fake_x.fail_next("GET", "/2/users/me", "timeout_before")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get("https://api.twitter.com/2/users/me", headers=headers)
    assert time.monotonic() - started < 0.9


def test_default_base_url_only_adds_a_timeout() -> None:
    session = requests.Session()
    point_session_at(session, "https://api.twitter.com", timeout=5.0)
    adapter = session.get_adapter("https://api.x.com/2/tweets")
    assert isinstance(adapter, RedirectAdapter) and adapter.timeout == 5.0
    assert adapter.rewrite("https://api.x.com/2/tweets") == "https://api.x.com/2/tweets"
    fake = RedirectAdapter("http://127.0.0.1:9/", timeout=1.0)
    assert fake.rewrite("https://upload.twitter.com/2/media/upload?a=1") == (
        "http://127.0.0.1:9/2/media/upload?a=1"
    )
    assert fake.rewrite("https://api.twitter.community/x") == "https://api.twitter.community/x"


def test_runs_standalone_as_a_subprocess(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    command = [sys.executable, "-m", "tests.fakes.fake_x", "--port", "0"]
    command += ["--state-file", str(state_file), "--user", "pressoffice"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        credentials = json.loads(process.stdout.readline())
        [user] = credentials["users"]
        client = tweepy.Client(
            consumer_key=credentials["consumer_key"],
            consumer_secret="not checked",
            access_token=user["access_token"],
            access_token_secret=user["access_token_secret"],
        )
        point_session_at(client.session, base_url, timeout=2.0)
        client.create_tweet(text="From another process")
    finally:
        process.terminate()
        process.wait(timeout=10)
    saved = json.loads(state_file.read_text())
    assert [(p["text"], p["author_id"]) for p in saved["posts"]] == [
        ("From another process", user["id"])
    ]


def test_the_duplicate_check_can_be_turned_off(fake_x: FakeX, x_client: ClientFactory) -> None:
    """Whether X always refuses repeated words is not documented: tests try both ways."""
    fake_x.duplicate_check = False
    client = x_client(fake_x.add_user("pressoffice"))
    client.create_tweet(text="Same words")
    client.create_tweet(text="Same words")
    assert fake_x.posts_by_text() == Counter({"Same words": 2})


def test_a_held_create_waits_until_the_test_decides(fake_x: FakeX, x_client: ClientFactory) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    hold = fake_x.hold("POST", "/2/tweets", text="part 2")
    client.create_tweet(text="part 1 goes straight through")
    answers: list[str] = []
    caller = threading.Thread(
        target=lambda: answers.append(client.create_tweet(text="part 2").data["id"])
    )
    caller.start()
    held = hold.next(timeout=5)
    assert held.text == "part 2"
    time.sleep(0.2)
    assert answers == [] and fake_x.posts_by_text()["part 2"] == 0, "held: not created yet"
    held.let_through()
    caller.join(timeout=5)
    assert len(answers) == 1 and fake_x.posts_by_text()["part 2"] == 1


def test_a_dropped_held_create_creates_nothing(fake_x: FakeX, x_client: ClientFactory) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    hold = fake_x.hold("POST", "/2/tweets")
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.create_tweet(text="never arrives")
        except BaseException as error:
            errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    hold.next(timeout=5).drop()
    caller.join(timeout=5)
    assert len(errors) == 1 and isinstance(errors[0], requests.ConnectionError)
    assert fake_x.posts == []
    assert fake_x.requests[-1].fault == "held_dropped"


def test_a_create_answered_without_data_creates_nothing_and_tweepy_cannot_read_it(
    fake_x: FakeX, x_client: ClientFactory
) -> None:
    client = x_client(fake_x.add_user("pressoffice"))
    fake_x.fail_next("POST", "/2/tweets", "no_data")
    response = client.create_tweet(text="odd answer")
    assert response.data is None  # so `response.data["id"]` raises a TypeError
    assert fake_x.posts == []
