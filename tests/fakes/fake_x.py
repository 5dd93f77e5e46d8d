"""A fake X API v2 server on loopback, driven by real tweepy in tests.

Why: publishing must be proven against what the real API does when things go wrong (rate
limits, 5xx, a timeout after the post was in fact created, duplicate-content refusals)
without touching the internet. Every post, upload and request is kept in memory so a test
can assert that each approved post exists exactly once, even when worker subprocesses did
the posting over loopback.

This module is what tests import: `FakeX` (lifecycle, users, set-up, fault injection,
records) and the record classes. What X answers is in `fake_x_api`, the server and the
faults on the wire in `fake_x_http`, both mixed into `FakeX`. They import this module for
types only (at run time `python -m tests.fakes.fake_x` would load it twice), so `FakeX`
makes every record they need (`_new_request`, `_new_post`, `_new_media`).
"""

import argparse
import copy
import json
import random
import secrets
import signal
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.fakes.fake_x_api import DUPLICATE as DUPLICATE
from tests.fakes.fake_x_api import XApi
from tests.fakes.fake_x_http import Fault, Hold, Server, Wire

TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from here
FAULT_KINDS = (
    "429",
    "429_no_reset",
    "500",
    "503",
    "timeout_before",
    "timeout_after",
    "reset",
    "no_data",
)
METRICS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)


@dataclass
class FakeUser:
    """An account and its credentials; the token fields change when tokens are refreshed."""

    id: str
    username: str
    name: str
    access_token: str  # OAuth 1.0a; tweepy reads the user id from the part before "-"
    access_token_secret: str
    bearer_token: str  # OAuth 2.0 user access token
    refresh_token: str
    followers: int = 0
    followers_per_day: int = 0  # growth, counted from when the fake started


@dataclass
class PostRecord:
    id: str
    author_id: str
    text: str
    reply_to: str | None
    media_ids: list[str]
    created_at: datetime
    deleted: bool = False
    metrics: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))


@dataclass
class MediaRecord:
    id: str
    owner_id: str
    size: int
    sha256: str
    media_category: str
    content_type: str
    alt_text: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int | None  # None: the connection was dropped without an answer
    fault: str | None
    user_id: str | None


class FakeX(XApi, Wire):
    """The fake API: start it, add users, point tweepy at `base_url`, assert on the records."""

    consumer_key = "fake-consumer-key"
    consumer_secret = "fake-consumer-secret"
    client_id = "fake-oauth2-client-id"
    client_secret = "fake-oauth2-client-secret"
    app_bearer_token = "fake-app-only-bearer-token"

    def __init__(self, port: int = 0, clock: Callable[[], datetime] | None = None) -> None:
        self.latency = 0.0  # seconds added to POST /2/tweets (the real API takes ~0.3 s)
        self.timeout_sleep = 2.0  # how long "timeout_*" faults hold the connection
        self.enforce_rate_limits = False  # True: answer 429 past the documented limits
        # X refuses a post whose words the account already has live; whether it always does
        # is not documented, so tests try both.
        self.duplicate_check = True
        self._port = port
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._users: dict[str, FakeUser] = {}
        self._tokens: dict[str, dict[str, str]] = {"oauth1": {}, "bearer": {}, "refresh": {}}
        self._posts: dict[str, PostRecord] = {}
        self._media: dict[str, MediaRecord] = {}
        self._requests: list[RequestRecord] = []
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []
        self._chaos: tuple[float, list[str], random.Random] | None = None
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._used_ids: set[int] = set()
        self._server_errors: list[str] = []
        self._growth: dict[str, int] = {}  # metric -> gained per hour of a post's age
        self._started_at = self._clock()
        self._routes = self._route_table()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FakeX":
        if self._server is not None:
            raise RuntimeError("FakeX is already running")
        self._stopping.clear()
        self._server = Server(("127.0.0.1", self._port), self._serve)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests held by faults or latency are let go at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeX":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeX is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- set-up and fault injection ----------------------------------------------------------

    def add_user(self, username: str, name: str | None = None) -> FakeUser:
        with self._lock:
            user_id = str(1_500_000_000 + len(self._users) + 1)
            user = FakeUser(
                id=user_id,
                username=username,
                name=name or username.title(),
                access_token=f"{user_id}-{secrets.token_hex(12)}",
                access_token_secret=secrets.token_hex(16),
                bearer_token=secrets.token_urlsafe(24),
                refresh_token=secrets.token_urlsafe(24),
            )
            self._users[user_id] = user
            self._tokens["oauth1"][user.access_token] = user_id
            self._tokens["bearer"][user.bearer_token] = user_id
            self._tokens["refresh"][user.refresh_token] = user_id
            return user

    def reissue_oauth1_tokens(self, user: FakeUser) -> FakeUser:
        """The account revoked the app and authorised it again: its old OAuth 1.0a token no
        longer works; the user with the new one is returned (and kept)."""
        with self._lock:
            del self._tokens["oauth1"][user.access_token]
            new = replace(
                user,
                access_token=f"{user.id}-{secrets.token_hex(12)}",
                access_token_secret=secrets.token_hex(16),
            )
            self._users[user.id] = new
            self._tokens["oauth1"][new.access_token] = user.id
            return new

    def expire_access_token(self, user: FakeUser) -> None:
        """Every OAuth 2.0 access token of `user` stops working; the refresh token still does."""
        with self._lock:
            bearer = self._tokens["bearer"]
            for token in [t for t, uid in bearer.items() if uid == user.id]:
                del bearer[token]

    def seed_post(
        self,
        user: FakeUser,
        text: str,
        *,
        created_at: datetime | None = None,
        reply_to: str | None = None,
    ) -> PostRecord:
        """A post that already existed (history for timeline tests), made without a request."""
        with self._lock:
            return self._new_post(user.id, text, reply_to, [], created_at or self._clock())

    def set_metrics(self, tweet_id: str, **counts: int) -> None:
        unknown = set(counts) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown metrics {sorted(unknown)}; known: {METRICS}")
        with self._lock:
            self._posts[tweet_id].metrics.update(counts)

    def grow(self, **per_hour: int) -> None:
        """Posts gain these metrics for every hour of their age (on top of `set_metrics`), as
        read at the fake's clock: tests see growth between two reads."""
        unknown = set(per_hour) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown metrics {sorted(unknown)}; known: {METRICS}")
        with self._lock:
            self._growth = dict(per_hour)

    def set_followers(self, user: FakeUser, count: int, *, per_day: int = 0) -> None:
        with self._lock:
            self._users[user.id].followers = count
            self._users[user.id].followers_per_day = per_day
            self._started_at = self._clock()

    def fail_next(
        self, method: str, path_prefix: str, kind: str, times: int = 1, reset_in: float = 1.0
    ) -> None:
        """The next `times` requests matching method and path prefix fail as `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {FAULT_KINDS}")
        with self._lock:
            self._faults.append(Fault(method.upper(), path_prefix, kind, times, reset_in))

    def hold(self, method: str, path_prefix: str, *, text: str | None = None) -> Hold:
        """Hold matching requests (for a create, only those whose text contains `text`) until
        the test lets each through or drops it: see `Hold`."""
        hold = Hold(method.upper(), path_prefix, text)
        with self._lock:
            self._holds.append(hold)
        return hold

    def chaos(self, rate: float, kinds: Sequence[str], seed: int = 0) -> None:
        """Each POST /2/tweets fails with probability `rate` as one of `kinds` (0 turns off).

        Seeded, so the same order of requests meets the same faults."""
        if not set(kinds) <= set(FAULT_KINDS) or not kinds:
            raise ValueError(f"kinds must be a non-empty subset of {FAULT_KINDS}")
        with self._lock:
            self._chaos = (rate, list(kinds), random.Random(seed)) if rate > 0 else None

    # -- records (copies, safe to keep while the server runs) ---------------------------------

    @property
    def posts(self) -> list[PostRecord]:
        with self._lock:
            return copy.deepcopy(list(self._posts.values()))

    @property
    def media(self) -> list[MediaRecord]:
        with self._lock:
            return copy.deepcopy(list(self._media.values()))

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of bugs in the fake itself (answered 500); a test should see none."""
        with self._lock:
            return list(self._server_errors)

    def posts_by_text(self, include_deleted: bool = False) -> Counter[str]:
        with self._lock:
            return Counter(p.text for p in self._posts.values() if include_deleted or not p.deleted)

    def state(self) -> dict[str, Any]:
        """Everything recorded, JSON-serialisable with `default=str`."""
        with self._lock:
            return {
                "users": [asdict(u) for u in self._users.values()],
                "posts": [asdict(p) for p in self._posts.values()],
                "media": [asdict(m) for m in self._media.values()],
                "requests": [asdict(r) for r in self._requests],
            }

    # -- making records (called with the lock held) -----------------------------------------

    def _new_request(
        self,
        method: str,
        path: str,
        query: str,
        status: int | None,
        fault: str | None,
        user_id: str | None,
    ) -> None:
        self._requests.append(RequestRecord(method, path, query, status, fault, user_id))

    def _new_id(self, at: datetime) -> str:
        """Snowflake-like: time-ordered, so newest-first by id is newest-first by time."""
        candidate = (int(at.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22
        while candidate in self._used_ids:
            candidate += 1
        self._used_ids.add(candidate)
        return str(candidate)

    def _new_post(
        self, author_id: str, text: str, reply_to: str | None, media: list[str], at: datetime
    ) -> PostRecord:
        post = PostRecord(self._new_id(at), author_id, text, reply_to, media, at)
        self._posts[post.id] = post
        if reply_to in self._posts:
            self._posts[reply_to].metrics["reply_count"] += 1
        return post

    def _new_media(
        self, owner_id: str, size: int, digest: str, category: str, content_type: str
    ) -> MediaRecord:
        record = MediaRecord(
            self._new_id(self._clock()), owner_id, size, digest, category, content_type
        )
        self._media[record.id] = record
        return record


def main(argv: Sequence[str] | None = None) -> None:
    """Run standalone: base URL on the first stdout line, credentials (JSON) on the second;
    on SIGTERM or SIGINT write everything recorded to --state-file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-file", type=Path)
    parser.add_argument("--user", action="append", default=[], help="username to create")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per POST /2/tweets")
    parser.add_argument(
        "--no-duplicate-check", action="store_true", help="take the same words twice (benches)"
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakeX(port=args.port) as fake:
        fake.latency = args.latency
        fake.duplicate_check = not args.no_duplicate_check
        users = [asdict(fake.add_user(name)) for name in args.user]
        print(fake.base_url, flush=True)
        print(
            json.dumps(
                {
                    "consumer_key": fake.consumer_key,
                    "consumer_secret": fake.consumer_secret,
                    "users": users,
                }
            ),
            flush=True,
        )
        while not stop.wait(0.1):
            pass
    if args.state_file:
        args.state_file.write_text(json.dumps(fake.state(), default=str, indent=1))


if __name__ == "__main__":
    main()
