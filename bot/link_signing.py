"""The review-link signer this installation uses, and the address of a link.

Links are signed with a key derived from PRESSGATE_SECRET_KEY, so every process (the web
replicas that check links, the workers that put them in Slack DMs) agrees on it. Only
`pressgate demo` may run without a usable key: its links are then signed with a key made
for the process, and stop working when it restarts.
"""

import secrets
from datetime import timedelta
from functools import cache

from approvals.signoff.review_links import LinkSigner
from bot.settings import Settings


def link_signer(settings: Settings) -> LinkSigner:
    """Refuses (InvalidInput) outside the demo when the secret key could be guessed."""
    settings.require_real_secret()
    if settings.secret_is_placeholder:  # the demo
        return LinkSigner(_process_key(), lifetime=timedelta(hours=settings.review_link_hours))
    return LinkSigner.from_secret(
        settings.secret_key.get_secret_value(), hours=settings.review_link_hours
    )


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/a/{token}"


@cache
def _process_key() -> bytes:
    return secrets.token_bytes(32)
