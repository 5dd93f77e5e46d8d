"""Logging set-up for every pressgate process.

tweepy, requests-oauthlib and oauthlib write request headers (bearer tokens, OAuth
signatures) at DEBUG, and Authlib the PKCE verifier of a sign-in, so they (and httpx2 and
httpcore2, which carry Authlib's calls) are held at WARNING whatever level the operator asks
for.
APScheduler's executor says "Running job" and "executed successfully" at INFO for every
beat (four lines a second in a busy worker): it is held at WARNING unless DEBUG is asked
for, so an idle `pressgate run` is quiet.
"""

import logging

NOISY_WITH_SECRETS = (
    "tweepy",
    "requests_oauthlib",
    "oauthlib",
    "urllib3",
    "authlib",
    "httpx2",
    "httpcore2",
)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for name in NOISY_WITH_SECRETS:
        logging.getLogger(name).setLevel(logging.WARNING)
    chatty = logging.getLogger("apscheduler.executors")
    chatty.setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
