"""`[x_prices]`, `[budgets]` and `[analytics]` in the map: defaults from X's April 2026 rate
card, editable, and a mistake named on one line."""

from decimal import Decimal

import pytest

from approvals.config import config_from_dict
from approvals.errors import ConfigError
from tests.factories import small_config


def test_without_the_sections_the_rate_card_of_april_2026_applies() -> None:
    config = config_from_dict(small_config())
    prices = config.x_prices
    assert (prices.create_post, prices.create_post_url) == (Decimal("0.015"), Decimal("0.20"))
    assert (prices.delete_post, prices.read_post) == (Decimal("0.010"), Decimal("0.005"))
    assert (prices.read_user, prices.owned_read) == (Decimal("0.010"), Decimal("0.001"))
    assert config.budgets.monthly is None and config.budgets.accounts == {}
    assert config.analytics.first_day_hourly is False


def test_prices_and_budgets_are_taken_from_the_map() -> None:
    config = config_from_dict(
        small_config(
            x_prices={"create_post_url": 0.25},
            budgets={"monthly": 40, "accounts": {"@DeptNews": 12.5}, "warn_percent": 75},
        )
    )
    assert config.x_prices.micros("create_post_url") == 250_000
    assert config.budgets.for_account("deptnews") == Decimal("12.5")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"x_prices": {"create_tweet": 0.1}}, "<config>: x_prices.create_tweet: unknown key"),
        ({"x_prices": {"create_post": -1}}, "x_prices.create_post: Input should be greater"),
        (
            {"budgets": {"accounts": {"@Nobody": 5}}},
            "budgets.accounts: 'nobody' is not a corporate account in the map",
        ),
        (
            {"budgets": {"accounts": {"@MinisterOwn": 5}}},
            "budgets.accounts: 'ministerown' is not a corporate account in the map",
        ),
    ],
)
def test_a_mistake_is_named_where_it_is(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(small_config(**raw))
    assert any(message in line for line in caught.value.problems), caught.value.problems
