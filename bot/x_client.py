"""One corporate account's voice on X, over tweepy's `Client` (API v2).

Implements `approvals.delivery.publisher.XPublisher`. tweepy's errors are translated into what they
mean for exactly-once publishing: `RateLimited` and `Rejected` posted nothing for sure;
`OutcomeUnknown` may have posted (timeouts, dropped connections, X's 5xx), so the caller
must reconcile against the timeline before trying again. Media goes up through X's v2 upload
endpoint, which tweepy 4.17 lacks, over the same authenticated session.
"""

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
import tweepy
from requests_oauthlib import OAuth1

from approvals.analytics.collector import PostFigures, TimelineRead, Window
from approvals.analytics.spend import CallMade
from approvals.content.twitter_text import extract_urls
from approvals.delivery.credentials import XTokens
from approvals.delivery.publisher import (
    OutcomeUnknown,
    OutgoingMedia,
    OutgoingPart,
    RateLimited,
    Rejected,
    TimelinePost,
)
from bot.x_transport import DEFAULT_BASE_URL, point_session_at

log = logging.getLogger("pressgate.x")
T = TypeVar("T")
DUPLICATE = "duplicate content"
OnCall = Callable[[CallMade], None]


def _message(error: tweepy.HTTPException) -> str:
    said = "; ".join(error.api_messages) or error.response.reason or "no details"
    return f"X answered {error.response.status_code}: {said}"


class XClient:
    sandbox = False

    def __init__(
        self,
        *,
        tokens: XTokens,
        x_user_id: str,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        on_refresh: Callable[[XTokens], None] | None = None,
        on_call: OnCall | None = None,
    ) -> None:
        if tokens.kind == "oauth1" and not (consumer_key and consumer_secret):
            raise Rejected("OAuth 1.0a tokens need the app's consumer key and secret")
        self._tokens = tokens
        self._x_user_id = x_user_id
        self._consumer = (consumer_key, consumer_secret)
        self._oauth2_client = (client_id, client_secret)
        self._api_url, self._timeout = api_url.rstrip("/"), timeout
        self._on_refresh = on_refresh
        self._on_call = on_call  # the spend ledger (bot.x_spend); every call to X goes there
        self._client = self._build()

    def _build(self) -> tweepy.Client:
        t = self._tokens
        if t.kind == "oauth1":
            client = tweepy.Client(
                consumer_key=self._consumer[0],
                consumer_secret=self._consumer[1],
                access_token=t.access_token,
                access_token_secret=t.access_token_secret,
            )
        else:
            client = tweepy.Client(bearer_token=t.access_token)
        point_session_at(client.session, self._api_url, self._timeout)
        return client

    @property
    def _user_auth(self) -> bool:
        return self._tokens.kind == "oauth1"

    # --- XPublisher ---------------------------------------------------------------------
    def create_post(self, part: OutgoingPart, *, reply_to: str | None) -> str:
        media_ids = [self._upload(m) for m in part.media]
        kind = "create_post_url" if extract_urls(part.text) else "create_post"
        response = self._metered(
            kind,
            "POST /2/tweets",
            lambda: self._client.create_tweet(
                text=part.text or None,
                in_reply_to_tweet_id=reply_to,
                media_ids=media_ids or None,
                user_auth=self._user_auth,
            ),
        )
        return str(response.data["id"])

    def delete_post(self, post_id: str) -> None:
        try:
            self._metered(
                "delete_post",
                "DELETE /2/tweets/:id",
                lambda: self._client.delete_tweet(post_id, user_auth=self._user_auth),
            )
        except Rejected as error:
            if error.status != 404:  # already gone is what a takedown wants
                raise

    def recent_posts(self, *, since: datetime) -> list[TimelinePost]:
        return [
            TimelinePost(str(tweet.id), tweet.text, tweet.created_at)
            for page in self._timeline(
                start_time=since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                tweet_fields=["created_at"],
            )
            for tweet in page.data or []
        ]

    # --- beyond publishing -----------------------------------------------------------------
    def read_own(self, window: Window) -> TimelineRead:
        """The account's own posts in `window` with their metrics, and its follower count,
        in as few pages as X allows (100 posts each): owned reads only. Non-public and
        organic metrics are asked for posts under 30 days; if the token may not see them,
        the public ones are read instead."""
        fields = ["created_at", "public_metrics"]
        if window.recent:
            try:
                return self._read_own(window, [*fields, "non_public_metrics", "organic_metrics"])
            except Rejected as error:
                if error.status not in (400, 403):
                    raise
                log.info("X user %s: no non-public metrics (%s)", self._x_user_id, error)
        return self._read_own(window, fields)

    def _read_own(self, window: Window, fields: list[str]) -> TimelineRead:
        read = TimelineRead()
        for page in self._timeline(
            since_id=window.since_id or None,
            until_id=window.until_id,
            tweet_fields=fields,
            expansions=["author_id"],
            user_fields=["public_metrics"],
        ):
            read.posts.extend(_figures(t) for t in page.data or [])
            for user in (page.includes or {}).get("users", []):
                if str(user.id) == self._x_user_id and user.public_metrics:
                    read.followers = int(user.public_metrics.get("followers_count", 0))
        return read

    def _timeline(self, **params: Any) -> Iterator[Any]:
        """The account's own timeline, page by page (100 posts each), every page an owned
        read in the ledger."""
        token: str | None = None
        while True:
            page = self._metered(
                "owned_read",
                "GET /2/users/:id/tweets",
                lambda token=token: self._client.get_users_tweets(  # type: ignore[misc]
                    self._x_user_id,
                    max_results=100,
                    pagination_token=token,
                    user_auth=self._user_auth,
                    **params,
                ),
                read=_resources_read,
            )
            yield page
            token = page.meta.get("next_token")
            if not token:
                return

    def me(self) -> tuple[str, str]:
        """(id, username) of the account the tokens belong to."""
        response = self._metered(
            "owned_read",
            "GET /2/users/me",
            lambda: self._client.get_me(user_auth=self._user_auth),
            read=lambda r: [f"user:{r.data.id}"],
        )
        return str(response.data.id), str(response.data.username)

    def metrics(self, post_ids: list[str]) -> dict[str, dict[str, int]]:
        response = self._metered(
            "read_post",
            "GET /2/tweets",
            lambda: self._client.get_tweets(
                post_ids, tweet_fields=["public_metrics"], user_auth=self._user_auth
            ),
            read=lambda r: [f"post:{t.id}" for t in r.data or []],
        )
        return {str(t.id): dict(t.public_metrics or {}) for t in response.data or []}

    # --- plumbing --------------------------------------------------------------------------
    def _metered(
        self,
        kind: str,
        endpoint: str,
        do: Callable[[], T],
        *,
        read: Callable[[T], list[str]] | None = None,
    ) -> T:
        """`_call`, written to the spend ledger whatever the outcome (a failed call is free;
        for reads, `read` names the resources returned, which X bills once a UTC day)."""
        try:
            result = self._call(do)
        except Exception:
            self._spent(CallMade(kind=kind, endpoint=endpoint, ok=False))
            raise
        self._spent(
            CallMade(kind=kind, endpoint=endpoint, ok=True, resources=read(result) if read else [])
        )
        return result

    def _spent(self, call: CallMade) -> None:
        if self._on_call is not None:
            self._on_call(call)

    def _call(self, do: Callable[[], T], *, refreshed: bool = False) -> T:
        try:
            return do()
        except tweepy.Unauthorized as error:
            if not refreshed and self._tokens.kind == "oauth2" and self._tokens.refresh_token:
                self._refresh()
                return self._call(do, refreshed=True)
            raise Rejected(
                _message(error) + " (the account's tokens are not accepted)", status=401
            ) from None
        except tweepy.TooManyRequests as error:
            reset = error.reset_time
            raise RateLimited(
                _message(error), datetime.fromtimestamp(reset, UTC) if reset else None
            ) from None
        except tweepy.TwitterServerError as error:
            raise OutcomeUnknown(_message(error), status=error.response.status_code) from None
        except tweepy.HTTPException as error:
            duplicate = any(DUPLICATE in m for m in error.api_messages)
            status = error.response.status_code
            raise Rejected(_message(error), duplicate=duplicate, status=status) from None
        except requests.RequestException as error:
            kind = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
            raise OutcomeUnknown(f"X {kind}: {type(error).__name__}") from None

    def _refresh(self) -> None:
        """Swap the refresh token for new tokens; X invalidates the old refresh token."""
        client_id, client_secret = self._oauth2_client
        if not client_id:
            raise Rejected("the access token expired and no X client id is set to refresh it")
        session = requests.Session()
        point_session_at(session, self._api_url, self._timeout)
        auth = (client_id, client_secret) if client_secret else None
        try:
            response = session.post(
                f"{DEFAULT_BASE_URL}/2/oauth2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self._tokens.refresh_token,
                    "client_id": client_id,
                },
                auth=auth,
            )
        except requests.RequestException as error:
            raise OutcomeUnknown(f"token refresh failed: {type(error).__name__}") from None
        ok = response.status_code == 200
        self._spent(CallMade(kind="token_refresh", endpoint="POST /2/oauth2/token", ok=ok))
        if not ok:
            raise Rejected(f"X refused to refresh the access token ({response.status_code})")
        body = response.json()
        self._tokens = XTokens(
            kind="oauth2",
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token", self._tokens.refresh_token),
        )
        self._client = self._build()
        log.info("refreshed the OAuth 2.0 access token for X user %s", self._x_user_id)
        if self._on_refresh is not None:
            self._on_refresh(self._tokens)

    def _upload(self, media: OutgoingMedia) -> str:
        url = f"{DEFAULT_BASE_URL}/2/media/upload"
        files = {"media": (media.sha256[:16], media.data, media.content_type)}
        data = {"media_category": "tweet_image", "media_type": media.content_type}
        body = self._raw("POST", url, files=files, data=data, kind="media_upload")
        media_id = str(body["data"]["id"])
        if media.alt_text:
            self._raw(
                "POST",
                f"{DEFAULT_BASE_URL}/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": media.alt_text}}},
                kind="media_metadata",
            )
        return media_id

    def _raw(self, method: str, url: str, *, kind: str, **kwargs: Any) -> Any:
        """A request tweepy has no method for, authenticated and classified like the others."""

        def send() -> Any:  # built per call: a refresh changes the tokens
            headers = {"User-Agent": self._client.user_agent}
            auth = None
            if self._user_auth:
                auth = OAuth1(
                    self._consumer[0],
                    self._consumer[1],
                    self._tokens.access_token,
                    self._tokens.access_token_secret,
                )
            else:
                headers["Authorization"] = f"Bearer {self._tokens.access_token}"
            response = self._client.session.request(
                method, url, headers=headers, auth=auth, **kwargs
            )
            if response.status_code >= 400:
                raise _status_error(response)
            return response.json()

        return self._metered(kind, f"{method} {url.removeprefix(DEFAULT_BASE_URL)}", send)


def _resources_read(page: Any) -> list[str]:
    """What a timeline page returned, as X bills it: each post, and the user expanded."""
    posts = [f"post:{t.id}" for t in page.data or []]
    return posts + [f"user:{u.id}" for u in (page.includes or {}).get("users", [])]


def _figures(tweet: Any) -> PostFigures:
    public = tweet.public_metrics or {}
    private = tweet.non_public_metrics or {}
    organic = tweet.organic_metrics or {}
    return PostFigures(
        x_post_id=str(tweet.id),
        created_at=tweet.created_at,
        impressions=int(public.get("impression_count", organic.get("impression_count", 0))),
        likes=int(public.get("like_count", 0)),
        reposts=int(public.get("retweet_count", 0)),
        replies=int(public.get("reply_count", 0)),
        quotes=int(public.get("quote_count", 0)),
        bookmarks=int(public.get("bookmark_count", 0)),
        url_clicks=_maybe(private.get("url_link_clicks")),
        profile_clicks=_maybe(private.get("user_profile_clicks")),
    )


def _maybe(value: Any) -> int | None:
    return None if value is None else int(value)


def _status_error(response: requests.Response) -> tweepy.HTTPException:
    status = response.status_code
    kinds: dict[int, type[tweepy.HTTPException]] = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
    }
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        return tweepy.TooManyRequests(response, reset_time=int(reset) if reset else None)
    if status >= 500:
        return tweepy.TwitterServerError(response)
    return kinds.get(status, tweepy.HTTPException)(response)
