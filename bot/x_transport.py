"""Transport settings for the X API session: where requests go and how long they may take.

tweepy 4.17 hard-codes https://api.twitter.com and passes no timeout to requests, so a hung
connection would block a publishing worker forever and tests could not reach a fake server.
Both are fixed below tweepy, in a requests transport adapter mounted on its public session.
"""

from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

DEFAULT_BASE_URL = "https://api.twitter.com"
# Hosts the X API answers on; all of them are rewritten so no request escapes to the internet.
X_API_PREFIXES = ("https://api.twitter.com", "https://api.x.com", "https://upload.twitter.com")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

Timeout = float | tuple[float | None, float | None] | None


class RedirectAdapter(HTTPAdapter):
    """Sends X API requests to `base_url` and gives each one a timeout.

    Request signing (OAuth 1.0a) has already happened over the original api.twitter.com URL
    when `send()` runs, so only the wire destination changes. When `base_url` is the real
    API the URL is left alone and the adapter only supplies the timeout.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def rewrite(self, url: str) -> str:
        """The URL a request for `url` is really sent to."""
        if self.base_url == DEFAULT_BASE_URL:
            return url
        for prefix in X_API_PREFIXES:
            if url == prefix or url.startswith(prefix + "/"):
                return self.base_url + url[len(prefix) :]
        return url

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        """Rewrite the URL, then send with the caller's timeout or, when none (tweepy), ours."""
        if request.url is not None:
            request.url = self.rewrite(request.url)
            # Proxies were chosen from the environment for the original host; none can reach
            # a loopback server, so a developer's HTTPS_PROXY must not break the tests.
            if urlsplit(request.url).hostname in _LOOPBACK_HOSTS:
                proxies = {}
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def point_session_at(session: requests.Session, base_url: str, timeout: float) -> None:
    """Route `session`'s X API traffic to `base_url` with `timeout` seconds per request.

    Meant for `tweepy.Client(...).session`; with the default base URL only the timeout
    changes, which production needs just as much as tests need the redirect.
    """
    adapter = RedirectAdapter(base_url, timeout)
    for prefix in X_API_PREFIXES:
        session.mount(prefix + "/", adapter)
