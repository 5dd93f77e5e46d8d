"""The map's `[policy]` section, and the part of a map the content check reads.

They live apart from the rest of the map's models so that `pressgate check` judges a text by
the map in force without defining all of them: the map's twenty models took 14 of the 60 ms
pressgate itself spends on a check. `config.py` re-exports the section as part of the map.
"""

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["block", "warn", "off"]

# Every policy rule and its default severity; `[policy.rules]` may override any of them.
POLICY_RULES: dict[str, Severity] = {
    "length": "block",
    "text.invalid": "block",
    "text.hidden_characters": "block",
    "personal_data.email": "block",
    "personal_data.uk_phone": "block",
    "personal_data.ni_number": "block",
    "personal_data.utr": "block",
    "personal_data.card_number": "block",
    "personal_data.postcode": "warn",
    "personal_data.whereabouts": "warn",
    "terms.blocked": "block",
    "terms.warn": "warn",
    "links.blocked_domain": "block",
    "links.not_allowed": "block",
    "links.shortener": "block",
    "media.alt_text": "block",
    "mentions.personal_handle": "block",
    "limits.hashtags": "warn",
    "limits.mentions": "warn",
}
DEFAULT_SHORTENERS = (
    "bit.ly",
    "buff.ly",
    "cutt.ly",
    "goo.gl",
    "is.gd",
    "ow.ly",
    "rb.gy",
    "rebrand.ly",
    "shorturl.at",
    "t.ly",
    "tiny.cc",
    "tinyurl.com",
    "v.gd",
)


class UtmConfig(BaseModel):
    """Campaign tags added to links (to allowed domains) when a post is drafted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = "twitter"
    medium: str = "social"
    campaign: str


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text_version: Literal[2, 3] = 3
    rules: dict[str, Severity] = Field(default_factory=dict)
    blocked_terms: list[str] = Field(default_factory=list)
    warn_terms: list[str] = Field(default_factory=list)
    link_allow: list[str] = Field(default_factory=list)  # empty: any domain not blocked
    link_block: list[str] = Field(default_factory=list)
    shorteners: list[str] = Field(default_factory=lambda: list(DEFAULT_SHORTENERS))
    utm: UtmConfig | None = None
    max_hashtags: int = Field(2, ge=0)
    max_mentions: int = Field(5, ge=0)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        unknown = sorted(set(value) - set(POLICY_RULES))
        if unknown:
            raise ValueError(
                f"unknown rule {', '.join(map(repr, unknown))} (known: {', '.join(POLICY_RULES)})"
            )
        return value

    @field_validator("link_allow", "link_block", "shorteners")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().removeprefix("www.") for d in value]

    def severity(self, rule: str) -> Severity:
        return self.rules.get(rule, POLICY_RULES[rule])


class _HasPersonalHandles(Protocol):
    @property
    def personal_handles(self) -> Sequence[str]: ...


class _HasHandleAndKind(Protocol):
    @property
    def handle(self) -> str: ...

    @property
    def kind(self) -> str: ...


class PolicySource(Protocol):
    """What the content check reads of a map: its policy, and whose personal accounts the
    corporate voice must never point at. A whole map (`PressgateConfig`) is one."""

    @property
    def policy(self) -> PolicyConfig: ...

    @property
    def people(self) -> Sequence[_HasPersonalHandles]: ...

    @property
    def accounts(self) -> Sequence[_HasHandleAndKind]: ...


class _PersonHandles(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    personal_handles: list[str] = Field(default_factory=list)


class _AccountKind(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    handle: str
    kind: str


class MapPolicy(BaseModel):
    """The policy source read from a stored map, which was checked as a whole when it was
    loaded: the rest of the document is passed over, not validated again."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    people: list[_PersonHandles] = Field(default_factory=list)
    accounts: list[_AccountKind] = Field(default_factory=list)
