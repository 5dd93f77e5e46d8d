"""A fake X API v2 server on loopback, driven by real tweepy in tests.

Why: publishing must be proven against what the real API does when things go wrong (rate
limits, 5xx, a timeout after the post was in fact created, duplicate-content refusals)
without touching the internet. Every post, upload and request is kept in memory so a test
can assert that each approved post exists exactly once, even when worker subprocesses did
the posting over loopback. Response shapes follow the X API v2 docs; where the docs leave
the behaviour open the code says "guess".

Signatures are not verified (tweepy signs OAuth 1.0a over api.twitter.com, not over this
address); tokens are matched exactly, which is what makes a wrong credential visible.
"""

import argparse
import contextlib
import copy
import json
import math
import random
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from base64 import b64decode
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import Message
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from here
FAULT_KINDS = ("429", "429_no_reset", "500", "503", "timeout_before", "timeout_after", "reset")
METRICS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)
MEDIA_CATEGORIES = {"tweet_image", "dm_image", "subtitles"}  # simple upload accepts these
MAX_IMAGE_BYTES = 5 * 1024 * 1024
RATE_WINDOW_SECS = 900
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
INVALID = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


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


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    method: str
    path_prefix: str
    kind: str
    times: int
    reset_in: float


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., _Reply]
    auth: str  # "none", "any" (app or user token) or "user"
    limit: int  # requests per 15-minute window, as documented for the endpoint


def _problem(status: int, title: str, detail: str, type_: str = "about:blank") -> _Reply:
    return _Reply(status, {"title": title, "detail": detail, "type": type_, "status": status})


def _invalid(message: str, parameter: str, value: object) -> _Reply:
    """400 in the X shape: per-parameter `errors` plus a problem summary."""
    detail = "One or more parameters to your request was invalid."
    errors = [{"parameters": {parameter: [str(value)]}, "message": message}]
    return _Reply(
        400, {"errors": errors, "title": "Invalid Request", "detail": detail, "type": INVALID}
    )


def _oauth_error(status: int, error: str, description: str) -> _Reply:
    """Errors of the OAuth 2.0 token endpoint use the RFC 6749 shape, not problem JSON."""
    return _Reply(status, {"error": error, "error_description": description})


def _not_found(kind: str, parameter: str, value: str) -> dict[str, str]:
    return {
        "value": value,
        "detail": f"Could not find {kind} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": value,
        "type": NOT_FOUND,
    }


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str]]:
    """Form parts by name: (bytes, content type). The stdlib `cgi` parser is deprecated."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or not found:
        return {}
    parts = {}
    for chunk in body.split(b"--" + found.group(1).encode())[1:-1]:
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'[; ]name="([^"]*)"', head)
        ctype = re.search(rb"(?i)content-type:\s*([^\r\n]+)", head)
        if name:
            kind = ctype.group(1).decode() if ctype else "text/plain"
            parts[name.group(1).decode()] = (data.removesuffix(b"\r\n"), kind)
    return parts


class FakeX:
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
        self._port = port
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._users: dict[str, FakeUser] = {}
        self._tokens: dict[str, dict[str, str]] = {"oauth1": {}, "bearer": {}, "refresh": {}}
        self._posts: dict[str, PostRecord] = {}
        self._media: dict[str, MediaRecord] = {}
        self._requests: list[RequestRecord] = []
        self._faults: list[_Fault] = []
        self._chaos: tuple[float, list[str], random.Random] | None = None
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._used_ids: set[int] = set()
        self._server_errors: list[str] = []
        self._routes = [
            _Route("POST", re.compile(r"/2/oauth2/token"), self._oauth2_token, "none", 10**6),
            _Route("GET", re.compile(r"/2/users/me"), self._users_me, "user", 75),
            _Route("POST", re.compile(r"/2/tweets"), self._create_tweet, "user", 100),
            _Route("GET", re.compile(r"/2/tweets"), self._lookup_tweets, "any", 900),
            _Route("DELETE", re.compile(r"/2/tweets/(\d+)"), self._delete_tweet, "user", 50),
            _Route("GET", re.compile(r"/2/users/(\d+)/tweets"), self._user_tweets, "any", 900),
            _Route("POST", re.compile(r"/2/media/upload"), self._upload_media, "user", 500),
            _Route("POST", re.compile(r"/2/media/metadata"), self._media_metadata, "user", 500),
        ]

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FakeX":
        if self._server is not None:
            raise RuntimeError("FakeX is already running")
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._port), self)
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

    def fail_next(
        self, method: str, path_prefix: str, kind: str, times: int = 1, reset_in: float = 1.0
    ) -> None:
        """The next `times` requests matching method and path prefix fail as `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {FAULT_KINDS}")
        with self._lock:
            self._faults.append(_Fault(method.upper(), path_prefix, kind, times, reset_in))

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

    # -- HTTP plumbing ----------------------------------------------------------------------

    def _serve(self, h: "_Handler") -> None:
        url = urlsplit(h.path)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        kind, reset_in = self._take_fault(h.command, url.path)
        if h.command == "POST" and url.path == "/2/tweets" and self.latency > 0:
            self._stopping.wait(self.latency)
        user_id = None
        if kind is not None:  # still say whose request met the fault
            with self._lock:
                user = self._authenticate(h.headers)[0]
            user_id = user.id if user else None
        if kind in ("reset", "timeout_before"):
            reply = None
        elif kind in ("429", "429_no_reset", "500", "503"):
            reply = self._fault_reply(kind, reset_in)
        else:
            try:
                reply, user_id = self._handle(h.command, url.path, url.query, h.headers, body)
            except Exception:
                with self._lock:
                    self._server_errors.append(traceback.format_exc())
                reply = _problem(500, "Fake X bug", "see FakeX.server_errors")
        dropped = reply is None or kind == "timeout_after"
        with self._lock:
            status = None if dropped or reply is None else reply.status
            self._requests.append(
                RequestRecord(h.command, url.path, url.query, status, kind, user_id)
            )
        if dropped or reply is None:
            if kind != "reset":
                self._stopping.wait(self.timeout_sleep)
            h.drop(hard=kind == "reset")
        else:
            h.reply(reply)

    def _take_fault(self, method: str, path: str) -> tuple[str | None, float]:
        with self._lock:
            for fault in self._faults:
                if (
                    fault.times > 0
                    and fault.method == method
                    and path.startswith(fault.path_prefix)
                ):
                    fault.times -= 1
                    return fault.kind, fault.reset_in
            if self._chaos and (method, path) == ("POST", "/2/tweets"):
                rate, kinds, rng = self._chaos
                if rng.random() < rate:
                    return rng.choice(kinds), 1.0
        return None, 0.0

    def _fault_reply(self, kind: str, reset_in: float) -> _Reply:
        headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"}
        if kind != "429_no_reset":
            headers["x-rate-limit-reset"] = str(math.ceil(time.time() + reset_in))
        if kind == "500":  # the older error shape, which some 5xx answers still use
            return _Reply(500, {"errors": [{"code": 131, "message": "Internal error"}]}, headers)
        if kind == "503":
            return _Reply(
                503, _problem(503, "Service Unavailable", "Service Unavailable").body, headers
            )
        return _Reply(429, _problem(429, "Too Many Requests", "Too Many Requests").body, headers)

    def _handle(
        self, method: str, path: str, query: str, headers: Message, body: bytes
    ) -> tuple[_Reply, str | None]:
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if route.method != method or not match:
                continue
            with self._lock:
                user, bucket = self._authenticate(headers) if route.auth != "none" else (None, "")
                limits, over_limit = self._count(bucket, route)
                if route.auth != "none" and not bucket:
                    reply = _problem(401, "Unauthorized", "Unauthorized")
                elif route.auth == "user" and user is None:
                    reply = _problem(
                        403,
                        "Unsupported Authentication",
                        "Authenticating with OAuth 2.0 Application-Only is forbidden "
                        "for this endpoint.  Supported authentication types are "
                        "[OAuth 1.0a User Context, OAuth 2.0 User Context].",
                        "https://api.twitter.com/2/problems/unsupported-authentication",
                    )
                elif self.enforce_rate_limits and over_limit:
                    reply = self._fault_reply("429", 0)
                else:
                    reply = route.handler(user, params, headers, body, *match.groups())
                reply.headers = {**limits, **reply.headers}
                return reply, user.id if user else None
        return _problem(404, "Not Found", f"No route for {method} {path}"), None

    def _authenticate(self, headers: Message) -> tuple[FakeUser | None, str]:
        """(user or None for the app token, rate-limit bucket); bucket "" means not accepted."""
        auth = headers.get("Authorization", "")
        if auth.startswith("OAuth "):
            fields = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', auth)}
            user_id = self._tokens["oauth1"].get(fields.get("oauth_token", ""))
            if user_id and fields.get("oauth_consumer_key") == self.consumer_key:
                return self._users[user_id], f"user:{user_id}"
        elif auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
            if token == self.app_bearer_token:
                return None, "app"
            if token in self._tokens["bearer"]:
                user_id = self._tokens["bearer"][token]
                return self._users[user_id], f"user:{user_id}"
        return None, ""

    def _count(self, bucket: str, route: _Route) -> tuple[dict[str, str], bool]:
        """Count the request in its 15-minute window: (rate-limit headers, over the limit)."""
        key = (bucket, f"{route.method} {route.pattern.pattern}")
        start, used = self._windows.get(key, (time.time(), 0))
        if time.time() >= start + RATE_WINDOW_SECS:
            start, used = time.time(), 0
        self._windows[key] = (start, used + 1)
        headers = {
            "x-rate-limit-limit": str(route.limit),
            "x-rate-limit-remaining": str(max(0, route.limit - used - 1)),
            "x-rate-limit-reset": str(int(start + RATE_WINDOW_SECS)),
        }
        return headers, used >= route.limit

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

    # -- endpoints (called with the lock held) ---------------------------------------------

    def _oauth2_token(
        self, _user: None, _params: dict[str, str], headers: Message, body: bytes
    ) -> _Reply:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        client_id = form.get("client_id")
        if headers.get("Authorization", "").startswith("Basic "):
            client_id = b64decode(headers["Authorization"][6:]).decode().partition(":")[0]
        if client_id != self.client_id:
            return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        if form.get("grant_type") != "refresh_token":
            return _oauth_error(400, "unsupported_grant_type", "Only refresh_token is faked")
        user_id = self._tokens["refresh"].pop(form.get("refresh_token", ""), None)
        if user_id is None:
            return _oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        # Guess: the old access token stays valid until it expires; the refresh token rotates.
        user = self._users[user_id]
        user.bearer_token, user.refresh_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._tokens["bearer"][user.bearer_token] = user_id
        self._tokens["refresh"][user.refresh_token] = user_id
        tokens = {"access_token": user.bearer_token, "refresh_token": user.refresh_token}
        scope = form.get("scope") or "tweet.read tweet.write users.read media.write offline.access"
        return _Reply(200, {"token_type": "bearer", "expires_in": 7200, "scope": scope, **tokens})

    def _users_me(self, user: FakeUser, *_: object) -> _Reply:
        return _Reply(200, {"data": {"id": user.id, "name": user.name, "username": user.username}})

    def _create_tweet(self, user: FakeUser, _p: object, _h: object, body: bytes) -> _Reply:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _invalid("The request body must be a JSON object.", "body", body[:80])
        text = payload.get("text")
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        media_ids = (payload.get("media") or {}).get("media_ids")
        if text is not None and not isinstance(text, str):
            return _invalid("text must be a string.", "text", text)
        if not text and not media_ids:
            return _invalid("Post text or media is required.", "text", "")
        if reply_to is not None:
            parent = self._posts.get(str(reply_to))
            if parent is None:
                return _invalid("The replied-to Post does not exist.", "reply", reply_to)
            if parent.deleted:  # X answered 403 (code 385) in v1.1; assumed still so
                return _problem(
                    403,
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                )
        if media_ids is not None:
            if not isinstance(media_ids, list) or not 1 <= len(media_ids) <= 4:
                return _invalid("media.media_ids must hold 1 to 4 ids.", "media", media_ids)
            for media_id in media_ids:
                if getattr(self._media.get(str(media_id)), "owner_id", None) != user.id:
                    return _invalid(
                        f"Media id {media_id} is not an upload of this user.",
                        "media.media_ids",
                        media_id,
                    )
        if text and any(
            p.author_id == user.id and p.text == text and not p.deleted
            for p in self._posts.values()
        ):
            return _problem(403, "Forbidden", DUPLICATE)
        post = self._new_post(
            user.id,
            text or "",
            reply_to and str(reply_to),
            [str(m) for m in media_ids or []],
            self._clock(),
        )
        data = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
        return _Reply(201, {"data": data})

    def _delete_tweet(self, user: FakeUser, _p: object, _h: object, _b: bytes, tid: str) -> _Reply:
        post = self._posts.get(tid)
        if post is None or post.deleted:  # guess: the docs do not say
            return _Reply(404, {**_not_found("tweet", "id", tid), "status": 404})
        if post.author_id != user.id:
            return _problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
        post.deleted = True
        return _Reply(200, {"data": {"deleted": True}})

    def _tweet_json(self, post: PostRecord, fields: set[str]) -> dict[str, Any]:
        """A post as the v2 API shows it: id, text, edit history, plus requested fields."""
        out: dict[str, Any] = {"id": post.id, "text": post.text}
        out["edit_history_tweet_ids"] = [post.id]
        parent = self._posts.get(post.reply_to or "")
        if "created_at" in fields:
            out["created_at"] = _rfc3339(post.created_at)
        if "author_id" in fields:
            out["author_id"] = post.author_id
        if "public_metrics" in fields:
            out["public_metrics"] = dict(post.metrics)
        if "conversation_id" in fields:
            root = post
            while root.reply_to in self._posts:
                root = self._posts[root.reply_to]
            out["conversation_id"] = root.id
        if parent and "referenced_tweets" in fields:
            out["referenced_tweets"] = [{"type": "replied_to", "id": parent.id}]
        if parent and "in_reply_to_user_id" in fields:
            out["in_reply_to_user_id"] = parent.author_id
        if post.media_ids and "attachments" in fields:
            out["attachments"] = {"media_keys": [f"3_{m}" for m in post.media_ids]}
        return out

    def _lookup_tweets(self, _user: object, params: dict[str, str], *_: object) -> _Reply:
        ids = [i for i in params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
            return _invalid("ids must be 1 to 100 numeric ids.", "ids", params.get("ids"))
        fields = set(params.get("tweet.fields", "").split(","))
        found = [self._posts[i] for i in ids if i in self._posts and not self._posts[i].deleted]
        missing = [i for i in ids if i not in {p.id for p in found}]
        body: dict[str, Any] = {}
        if found:
            body["data"] = [self._tweet_json(p, fields) for p in found]
        if missing:
            body["errors"] = [_not_found("tweet", "ids", i) for i in missing]
        return _Reply(200, body)

    def _user_tweets(
        self, _user: object, params: dict[str, str], _h: object, _b: bytes, user_id: str
    ) -> _Reply:
        if user_id not in self._users:
            return _Reply(200, {"errors": [_not_found("user", "id", user_id)]})
        try:
            size = int(params.get("max_results", "10"))
            since, until = int(params.get("since_id", 0)), int(params.get("until_id", 2**64))
            start = datetime.fromisoformat(params.get("start_time", "2006-03-21T00:00:00Z"))
            end = datetime.fromisoformat(params.get("end_time", "9999-01-01T00:00:00Z"))
            before = int(params.get("pagination_token", "f" * 17), 16)
        except ValueError as exc:
            return _invalid(f"Invalid query parameter: {exc}", "query", params)
        if start.tzinfo is None or end.tzinfo is None:
            return _invalid("Times must be RFC 3339 with a zone (Z).", "start_time", start)
        if not 5 <= size <= 100:
            return _invalid("max_results must be between 5 and 100.", "max_results", size)
        excluded = set(params.get("exclude", "").split(","))
        matches = sorted(
            (
                p
                for p in self._posts.values()
                if p.author_id == user_id
                and not p.deleted
                and since < int(p.id) < until
                and start <= p.created_at <= end
                and int(p.id) < before
                and not (p.reply_to and "replies" in excluded)
            ),
            key=lambda p: int(p.id),
            reverse=True,
        )
        page = matches[:size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if len(matches) > size:
            meta["next_token"] = format(int(page[-1].id), "x")
        fields = set(params.get("tweet.fields", "").split(","))
        data = [self._tweet_json(p, fields) for p in page]
        return _Reply(200, {"data": data, "meta": meta} if data else {"meta": meta})

    def _upload_media(self, user: FakeUser, _p: object, headers: Message, body: bytes) -> _Reply:
        parts = _multipart(headers.get("Content-Type", ""), body)
        if "media" not in parts:
            return _invalid("A multipart/form-data `media` part is required.", "media", "")
        data, content_type = parts["media"]
        category = parts.get("media_category", (b"tweet_image", ""))[0].decode()
        if category not in MEDIA_CATEGORIES:
            return _invalid(
                f"media_category must be one of {sorted(MEDIA_CATEGORIES)}.",
                "media_category",
                category,
            )
        if not data or len(data) > MAX_IMAGE_BYTES:
            return _invalid("Media must be 1 byte to 5 MB.", "media", len(data))
        media_type = parts.get("media_type", (content_type.encode(), ""))[0].decode()
        digest = sha256(data).hexdigest()
        record = MediaRecord(
            self._new_id(self._clock()), user.id, len(data), digest, category, media_type
        )
        self._media[record.id] = record
        info = {"id": record.id, "media_key": f"3_{record.id}", "size": record.size}
        return _Reply(200, {"data": {**info, "expires_after_secs": 86400}})

    def _media_metadata(self, user: FakeUser, _p: object, _h: object, body: bytes) -> _Reply:
        try:
            payload = json.loads(body)
            media_id, alt = str(payload["id"]), payload["metadata"]["alt_text"]["text"]
        except (ValueError, KeyError, TypeError):
            return _invalid("Expected {id, metadata: {alt_text: {text}}}.", "body", body[:80])
        record = self._media.get(media_id)
        if record is None or record.owner_id != user.id:
            return _invalid("Unknown media id for this user.", "id", media_id)
        if not isinstance(alt, str) or len(alt) > 1000:
            return _invalid("alt_text.text must be at most 1000 characters.", "alt_text", "…")
        record.alt_text = alt
        return _Reply(
            200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}}
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as tweepy's session pools connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: "_Server"

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    do_POST = do_DELETE = do_PUT = do_GET

    def reply(self, reply: _Reply) -> None:
        data = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (its timeout was shorter than our latency)
            self.close_connection = True

    def drop(self, hard: bool) -> None:
        """Close without answering; `hard` sends a TCP reset instead of a clean close."""
        self.close_connection = True
        if hard:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the records say what happened, and stderr noise hides test failures."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many worker processes may connect at once

    def __init__(self, address: tuple[str, int], fake: FakeX) -> None:
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (a killed worker) is normal, not a bug."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        self.open_sockets.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections, so no client talks to a stopped fake's threads."""
        for sock in list(self.open_sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def main(argv: Sequence[str] | None = None) -> None:
    """Run standalone: base URL on the first stdout line, credentials (JSON) on the second;
    on SIGTERM or SIGINT write everything recorded to --state-file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-file", type=Path)
    parser.add_argument("--user", action="append", default=[], help="username to create")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakeX(port=args.port) as fake:
        users = [asdict(fake.add_user(name)) for name in args.user]
        print(fake.base_url, flush=True)
        print(json.dumps({"consumer_key": fake.consumer_key, "users": users}), flush=True)
        while not stop.wait(0.1):
            pass
    if args.state_file:
        args.state_file.write_text(json.dumps(fake.state(), default=str, indent=1))


if __name__ == "__main__":
    main()
