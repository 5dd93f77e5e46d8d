"""Slack notices: what a change tells whom, the outbox, the Block Kit and Slack text."""
