"""Sign-off: approvals and quorum, stages and tags, review links, reminders and escalation."""
