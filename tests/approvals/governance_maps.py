"""Permission maps with approval stages, expiry and escalation, for the governance tests."""

from typing import Any

PEOPLE: dict[str, list[str]] = {
    "alice@example.org": ["officer"],
    "bob@example.org": ["press_lead"],
    "carol@example.org": ["press_lead", "legal"],
    "dana@example.org": ["legal"],
    "erin@example.org": ["officer", "deputy"],
    "frank@example.org": ["duty"],
    "gina@example.org": ["propriety"],
    "hal@example.org": ["duty"],
}


def staged_config(*, account: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """@DeptNews needs the press lead, then legal; postcodes and `pre-election` add stages."""
    news: dict[str, Any] = {
        "handle": "@DeptNews",
        "kind": "corporate",
        "stages": [
            {"name": "press", "role": "press_lead", "need": 1},
            {"name": "legal", "role": "legal", "need": 1},
        ],
    }
    news.update(account or {})
    raw: dict[str, Any] = {
        "accounts": [
            news,
            {"handle": "@DeptHelp", "kind": "corporate", "approvals_required": 2},
            {"handle": "@MinisterOwn", "kind": "personal"},
        ],
        "roles": {
            "officer": {"actions": ["draft", "submit"], "accounts": ["@DeptNews", "@DeptHelp"]},
            "press_lead": {"actions": ["approve"], "accounts": ["*"]},
            "legal": {"actions": ["approve"], "accounts": ["*"]},
            "deputy": {"actions": ["approve"], "accounts": ["*"]},
            "duty": {"actions": ["pause", "takedown"], "accounts": ["*"]},
            "propriety": {"actions": ["approve"], "accounts": ["*"]},
        },
        "people": [{"email": e, "roles": r} for e, r in PEOPLE.items()],
        "extra_stages": [
            {
                "name": "propriety",
                "role": "propriety",
                "need": 1,
                "on_tags": ["pre-election"],
            },
            {
                "name": "legal-check",
                "role": "legal",
                "need": "all",
                "on_findings": ["personal_data.postcode"],
                "accounts": ["@DeptHelp"],
            },
        ],
    }
    raw.update(overrides)
    return raw
