"""Logging set-up for every pressgate process.

tweepy, requests-oauthlib and oauthlib write request headers (bearer tokens, OAuth
signatures) at DEBUG, so they are held at WARNING whatever level the operator asks for.
"""

import logging

NOISY_WITH_SECRETS = ("tweepy", "requests_oauthlib", "oauthlib", "urllib3")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for name in NOISY_WITH_SECRETS:
        logging.getLogger(name).setLevel(logging.WARNING)
