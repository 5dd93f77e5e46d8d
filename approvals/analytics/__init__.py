"""Analytics for the digital strategy lead: what X costs (the spend ledger, prices, budgets),
what the posts did (the collector's snapshots) and how sign-off runs (governance), shown on
one dashboard, exported as CSV and summed up in a weekly digest."""
