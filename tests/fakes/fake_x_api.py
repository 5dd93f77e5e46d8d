"""X API v2 behaviour of the fake (`tests.fakes.fake_x`): routes, authentication, rate-limit
windows, error bodies and the endpoints.

Why apart: this is the part to check against the X docs, so it reads without the server or
the test-facing API around it. Response shapes follow the X API v2 docs; where the docs leave
the behaviour open the code says "guess". Signatures are not verified (tweepy signs OAuth
1.0a over api.twitter.com, not over this address); tokens are matched exactly, which is what
makes a wrong credential visible.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from base64 import b64decode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from hashlib import sha256
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from tests.fakes.fake_x_http import Reply, fault_reply, multipart, problem

if TYPE_CHECKING:  # types only: at run time `python -m tests.fakes.fake_x` would import it twice
    from tests.fakes.fake_x import FakeUser, MediaRecord, PostRecord

MEDIA_CATEGORIES = {"tweet_image", "dm_image", "subtitles"}  # simple upload accepts these
MAX_IMAGE_BYTES = 5 * 1024 * 1024
RATE_WINDOW_SECS = 900
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
INVALID = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Reply]
    auth: str  # "none", "any" (app or user token) or "user"
    limit: int  # requests per 15-minute window, as documented for the endpoint


def _invalid(message: str, parameter: str, value: object) -> Reply:
    """400 in the X shape: per-parameter `errors` plus a problem summary."""
    detail = "One or more parameters to your request was invalid."
    errors = [{"parameters": {parameter: [str(value)]}, "message": message}]
    return Reply(
        400, {"errors": errors, "title": "Invalid Request", "detail": detail, "type": INVALID}
    )


def _oauth_error(status: int, error: str, description: str) -> Reply:
    """Errors of the OAuth 2.0 token endpoint use the RFC 6749 shape, not problem JSON."""
    return Reply(status, {"error": error, "error_description": description})


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


class XApi:
    """The API as a mixin of FakeX, so handlers read as methods of the fake they are; FakeX
    holds the state below and makes the records (`_new_post`, `_new_media`)."""

    consumer_key: str
    client_id: str
    app_bearer_token: str
    enforce_rate_limits: bool
    _lock: threading.RLock
    _clock: Callable[[], datetime]
    _users: dict[str, FakeUser]
    _tokens: dict[str, dict[str, str]]
    _posts: dict[str, PostRecord]
    _media: dict[str, MediaRecord]
    _windows: dict[tuple[str, str], tuple[float, int]]
    _routes: list[_Route]
    _growth: dict[str, int]
    _started_at: datetime
    duplicate_check: bool
    _new_post: Callable[[str, str, str | None, list[str], datetime], PostRecord]
    _new_media: Callable[[str, int, str, str, str], MediaRecord]

    def _route_table(self) -> list[_Route]:
        """The endpoints faked, who may call them, and their documented 15-minute limits."""
        return [
            _Route("POST", re.compile(r"/2/oauth2/token"), self._oauth2_token, "none", 10**6),
            _Route("GET", re.compile(r"/2/users/me"), self._users_me, "user", 75),
            _Route("POST", re.compile(r"/2/tweets"), self._create_tweet, "user", 100),
            _Route("GET", re.compile(r"/2/tweets"), self._lookup_tweets, "any", 900),
            _Route("DELETE", re.compile(r"/2/tweets/(\d+)"), self._delete_tweet, "user", 50),
            _Route("GET", re.compile(r"/2/users/(\d+)/tweets"), self._user_tweets, "any", 900),
            _Route("POST", re.compile(r"/2/media/upload"), self._upload_media, "user", 500),
            _Route("POST", re.compile(r"/2/media/metadata"), self._media_metadata, "user", 500),
        ]

    # -- dispatch, authentication and rate limits -----------------------------------------

    def _handle(
        self, method: str, path: str, query: str, headers: Message, body: bytes
    ) -> tuple[Reply, str | None]:
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if route.method != method or not match:
                continue
            with self._lock:
                user, bucket = self._authenticate(headers) if route.auth != "none" else (None, "")
                limits, over_limit = self._count(bucket, route)
                if route.auth != "none" and not bucket:
                    reply = problem(401, "Unauthorized", "Unauthorized")
                elif route.auth == "user" and user is None:
                    reply = problem(
                        403,
                        "Unsupported Authentication",
                        "Authenticating with OAuth 2.0 Application-Only is forbidden "
                        "for this endpoint.  Supported authentication types are "
                        "[OAuth 1.0a User Context, OAuth 2.0 User Context].",
                        "https://api.twitter.com/2/problems/unsupported-authentication",
                    )
                elif self.enforce_rate_limits and over_limit:
                    reply = fault_reply("429", 0)
                else:
                    reply = route.handler(user, params, headers, body, *match.groups())
                reply.headers = {**limits, **reply.headers}
                return reply, user.id if user else None
        return problem(404, "Not Found", f"No route for {method} {path}"), None

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

    # -- endpoints (called with the lock held) ---------------------------------------------

    def _oauth2_token(
        self, _user: None, _params: dict[str, str], headers: Message, body: bytes
    ) -> Reply:
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
        return Reply(200, {"token_type": "bearer", "expires_in": 7200, "scope": scope, **tokens})

    def _users_me(self, user: FakeUser, *_: object) -> Reply:
        return Reply(200, {"data": {"id": user.id, "name": user.name, "username": user.username}})

    def _create_tweet(self, user: FakeUser, _p: object, _h: object, body: bytes) -> Reply:
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
                return problem(
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
        if (
            text
            and self.duplicate_check
            and any(
                p.author_id == user.id and p.text == text and not p.deleted
                for p in self._posts.values()
            )
        ):
            return problem(403, "Forbidden", DUPLICATE)
        post = self._new_post(
            user.id,
            text or "",
            reply_to and str(reply_to),
            [str(m) for m in media_ids or []],
            self._clock(),
        )
        data = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
        return Reply(201, {"data": data})

    def _delete_tweet(self, user: FakeUser, _p: object, _h: object, _b: bytes, tid: str) -> Reply:
        post = self._posts.get(tid)
        if post is None or post.deleted:  # guess: the docs do not say
            return Reply(404, {**_not_found("tweet", "id", tid), "status": 404})
        if post.author_id != user.id:
            return problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
        post.deleted = True
        return Reply(200, {"data": {"deleted": True}})

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
            out["public_metrics"] = self._metrics_now(post)
        young = self._clock() - post.created_at < timedelta(days=30)
        private = {"url_link_clicks", "user_profile_clicks"}
        if "non_public_metrics" in fields and young:  # X: own token, posts under 30 days
            grown = self._metrics_now(post)
            out["non_public_metrics"] = {
                "impression_count": grown["impression_count"],
                **{k: grown["impression_count"] // 50 for k in sorted(private)},
            }
        if "organic_metrics" in fields and young:
            out["organic_metrics"] = {
                k: v for k, v in self._metrics_now(post).items() if k != "bookmark_count"
            }
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

    def _metrics_now(self, post: PostRecord) -> dict[str, int]:
        """Stored metrics plus what the post gained per hour of its age (`FakeX.grow`)."""
        hours = max(0, int((self._clock() - post.created_at).total_seconds() // 3600))
        return {k: v + self._growth.get(k, 0) * hours for k, v in post.metrics.items()}

    def _user_json(self, user: FakeUser) -> dict[str, Any]:
        days = max(0, (self._clock() - self._started_at).days)
        followers = user.followers + user.followers_per_day * days
        return {
            "id": user.id,
            "name": user.name,
            "username": user.username,
            "public_metrics": {"followers_count": followers, "following_count": 0},
        }

    def _lookup_tweets(self, _user: object, params: dict[str, str], *_: object) -> Reply:
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
        return Reply(200, body)

    def _user_tweets(
        self, _user: object, params: dict[str, str], _h: object, _b: bytes, user_id: str
    ) -> Reply:
        if user_id not in self._users:
            return Reply(200, {"errors": [_not_found("user", "id", user_id)]})
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
        private = {"non_public_metrics", "organic_metrics"} & fields
        if private and (_user is None or getattr(_user, "id", None) != user_id):
            return problem(  # guess at the wording; X refuses these fields to others
                403,
                "Forbidden",
                f"Sorry, you are not authorized to access {sorted(private)} of this user.",
            )
        data = [self._tweet_json(p, fields) for p in page]
        body: dict[str, Any] = {"data": data, "meta": meta} if data else {"meta": meta}
        if data and "author_id" in params.get("expansions", "").split(","):
            body["includes"] = {"users": [self._user_json(self._users[user_id])]}
        return Reply(200, body)

    def _upload_media(self, user: FakeUser, _p: object, headers: Message, body: bytes) -> Reply:
        parts = multipart(headers.get("Content-Type", ""), body)
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
        record = self._new_media(user.id, len(data), digest, category, media_type)
        info = {"id": record.id, "media_key": f"3_{record.id}", "size": record.size}
        return Reply(200, {"data": {**info, "expires_after_secs": 86400}})

    def _media_metadata(self, user: FakeUser, _p: object, _h: object, body: bytes) -> Reply:
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
        return Reply(
            200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}}
        )
