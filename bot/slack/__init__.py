"""Slack coming in: approvers' clicks, the reject modal and the `/pressgate` command, over
HTTP (`bot.web.slack`) or Socket Mode (`bot.slack.socket_mode`), through the same handlers."""
