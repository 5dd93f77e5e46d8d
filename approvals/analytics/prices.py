"""What X charges, and what the organisation means to spend: `[x_prices]` and `[budgets]`.

X bills per call since 2026. The Developer Console is the authority on prices and they
change, so they live in the permission map (editable, versioned and audited like the rest of
it); the defaults are X's rate card of April 2026. Budgets are per calendar month (UTC),
overall and per account; they warn, they never stop a post.
"""

import re
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MICROS = Decimal(1_000_000)
_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,15}$")

# Every kind of call pressgate makes to X, as the ledger names it, with what one unit is.
KINDS: dict[str, str] = {
    "create_post": "a post created (no link)",
    "create_post_url": "a post created that contains a link",
    "delete_post": "a post deleted",
    "read_post": "a post returned by a lookup by id",
    "read_user": "a user returned by a lookup",
    "owned_read": "a resource of the account's own (its timeline, its profile)",
    "media_upload": "an image uploaded",
    "media_metadata": "alt text set on an image",
    "token_refresh": "an OAuth 2.0 token refreshed",
}


class XPrices(BaseModel):
    """Dollars per unit of each kind of call (X's pay-per-use rate card, April 2026)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    create_post: Decimal = Field(Decimal("0.015"), ge=0)
    create_post_url: Decimal = Field(Decimal("0.20"), ge=0)
    delete_post: Decimal = Field(Decimal("0.010"), ge=0)
    read_post: Decimal = Field(Decimal("0.005"), ge=0)
    read_user: Decimal = Field(Decimal("0.010"), ge=0)
    owned_read: Decimal = Field(Decimal("0.001"), ge=0)
    media_upload: Decimal = Field(Decimal("0"), ge=0)  # not on the rate card
    media_metadata: Decimal = Field(Decimal("0"), ge=0)
    token_refresh: Decimal = Field(Decimal("0"), ge=0)

    def micros(self, kind: str) -> int:
        """The price of one unit of `kind` in micro-dollars."""
        return int(Decimal(getattr(self, kind)) * MICROS)


class BudgetConfig(BaseModel):
    """Dollars a calendar month (UTC): `monthly` for all accounts, `accounts` per handle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monthly: Decimal | None = Field(None, gt=0)
    accounts: dict[str, Decimal] = Field(default_factory=dict)
    warn_percent: int = Field(80, ge=1, le=100)  # the author is told from here; 100: the lead

    @field_validator("accounts")
    @classmethod
    def _handles(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for handle, amount in value.items():
            if not _HANDLE.match(handle.strip()):
                raise ValueError(f"{handle!r} is not an X handle")
            if amount <= 0:
                raise ValueError(f"{handle}: a budget must be more than 0 (got {amount})")
            out[handle.strip().lstrip("@").lower()] = amount
        return out

    def for_account(self, key: str) -> Decimal | None:
        return self.accounts.get(key)


def dollars(micros: int) -> str:
    """$0.20, $0.015, $1,234.50: cents always, more digits only when the price has them."""
    amount = Decimal(micros) / MICROS
    text = f"{amount:,.3f}" if (micros % 10_000) else f"{amount:,.2f}"
    if text.endswith("0") and "." in text and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return f"${text}"


class AnalyticsConfig(BaseModel):
    """`[analytics]`: how often the collector reads a post's figures.

    By default a post is read at most once a UTC day (X bills a resource once a day, and
    the figures of a day-old post change slowly): within the hour after it is published,
    then daily to day 30, then weekly. `first_day_hourly = true` reads posts under a day
    old every hour as well, which is asking for re-reads X does not bill again that day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_day_hourly: bool = False
