"""Load and validate `pressgate.toml`: the accounts, roles and people of the permission map.

The file is the organisation's written rules, so a mistake in it must never be half
applied: it is parsed and checked as a whole, and every problem is reported on its own
line naming the file, the key and what is wrong.
"""

import re
import tomllib
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from approvals.analytics.prices import AnalyticsConfig, BudgetConfig, XPrices
from approvals.content.policy_config import PolicyConfig
from approvals.errors import ConfigError
from approvals.signoff.config_stages import (
    WILDCARD as WILDCARD,  # re-exported: the map's "every account"
)
from approvals.signoff.config_stages import (
    ExtraStageConfig,
    StageConfig,
)

DEFAULT_TIMEZONE = "Europe/London"
_HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Action(StrEnum):
    DRAFT = "draft"
    SUBMIT = "submit"
    APPROVE = "approve"
    PUBLISH_NOW = "publish_now"
    PAUSE = "pause"
    TAKEDOWN = "takedown"
    VIEW_ANALYTICS = "view_analytics"
    MANAGE = "manage"


# Actions that would let someone speak through an account; never granted on personal ones.
PUBLISHING_ACTIONS = frozenset(
    {Action.DRAFT, Action.SUBMIT, Action.APPROVE, Action.PUBLISH_NOW, Action.TAKEDOWN}
)


def display_handle(value: str) -> str:
    """The handle as the organisation writes it, with its `@`: `@DeptNews`."""
    match = _HANDLE.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not an X handle (1-15 letters, digits or _)")
    return "@" + match.group(1)


def normalise_handle(value: str) -> str:
    """`@DeptNews` and `deptnews` name the same X account; the key is lower case, no `@`."""
    return display_handle(value)[1:].lower()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Strict):
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"must be a time of day as HH:MM (got {value!r})")
        return value


class AccountConfig(_Strict):
    handle: str
    kind: Literal["corporate", "personal"]
    name: str | None = None
    approvals_required: int | None = None
    stages: list[StageConfig] | None = None
    # Approvals older than this no longer count: a post approved long ago is re-confirmed.
    approval_max_age_hours: float | None = Field(None, gt=0)
    # A post due within this many minutes and short of approvals is escalated to the
    # deputies; within `duty_within_minutes`, to the duty officers as well.
    escalate_within_minutes: int | None = Field(None, gt=0)
    duty_within_minutes: int | None = Field(None, gt=0)
    deputy_role: str | None = None
    duty_role: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    quiet_hours: QuietHours | None = None
    slack_channel: str | None = None
    # Approval requests also go to each eligible approver as a Slack DM with a signed link.
    slack_dms: bool = True

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        return display_handle(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @property
    def key(self) -> str:
        return self.handle[1:].lower()

    @property
    def required(self) -> int:
        """Approvals needed to publish; personal accounts never publish."""
        return self.approvals_required if self.approvals_required is not None else 1

    @property
    def rule(self) -> list[StageConfig]:
        """The account's own stages; a plain count is one stage anyone approving may fill."""
        if self.stages:
            return list(self.stages)
        return [StageConfig(name="approval", role=None, need=self.required)]


class RoleConfig(_Strict):
    description: str | None = None
    actions: list[Action]
    accounts: list[str] = Field(default_factory=lambda: [WILDCARD])


class PersonConfig(_Strict):
    email: str
    name: str | None = None
    slack_id: str | None = None
    roles: list[str] = Field(default_factory=list)
    personal_handles: list[str] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.lower()

    @field_validator("personal_handles")
    @classmethod
    def _handles(cls, value: list[str]) -> list[str]:
        return [display_handle(h) for h in value]


class BlackoutConfig(_Strict):
    """A window in which nothing goes out (e.g. a pre-election period), in local time."""

    name: str
    start: datetime
    end: datetime
    timezone: str = DEFAULT_TIMEZONE
    accounts: list[str] = Field(default_factory=lambda: [WILDCARD])

    @field_validator("start", "end", mode="before")
    @classmethod
    def _local(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise ValueError("give a local time without an offset; the zone is `timezone`")
        if isinstance(value, str):
            try:  # "YYYY-MM-DD HH:MM" as people write it, or ISO as the stored map has it
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"{value!r} is not a time as YYYY-MM-DD HH:MM") from None
            if parsed.tzinfo is not None:
                raise ValueError("give a local time without an offset; the zone is `timezone`")
            return parsed
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    def covers(self, key: str) -> bool:
        return WILDCARD in self.accounts or any(_same_handle(h, key) for h in self.accounts)


DEFAULT_GROUND_RULES = (
    "Anything you post can become public, even from a private or locked profile.",
    "Never disclose personal details, yours or anyone else's, or say where you are.",
    "Choose your online friends and followers carefully.",
    "Keep your privacy settings up to date.",
    "Never use the department's logo, and do not speak for the department.",
)


class GuidanceConfig(_Strict):
    """The personal-use guidance every member of staff can read and check a post against."""

    organisation: str = "the department"
    contact: str | None = None
    # The role whose holders sign off a consulted draft for the trade unions; with one set,
    # a consulted draft is published only once signed off.
    union_role: str | None = None
    ground_rules: list[str] = Field(default_factory=lambda: list(DEFAULT_GROUND_RULES))
    # Words that suggest a personal post speaks for the organisation or uses its brand.
    official_terms: list[str] = Field(
        default_factory=lambda: ["on behalf of the department", "official statement", "our logo"]
    )


class SlackConfig(_Strict):
    """Where pressgate tells the duty officers of pauses, resumes and blackouts."""

    duty_channel: str | None = None


class PressgateConfig(_Strict):
    accounts: list[AccountConfig]
    roles: dict[str, RoleConfig]
    people: list[PersonConfig]
    blackouts: list[BlackoutConfig] = Field(default_factory=list)
    extra_stages: list[ExtraStageConfig] = Field(default_factory=list)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    guidance: GuidanceConfig = Field(default_factory=GuidanceConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    x_prices: XPrices = Field(default_factory=XPrices)
    budgets: BudgetConfig = Field(default_factory=BudgetConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)

    def account(self, handle: str) -> AccountConfig | None:
        key = normalise_handle(handle)
        return next((a for a in self.accounts if a.key == key), None)


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as Europe/London)"
        ) from None
    return value


def load_config(path: str | Path) -> PressgateConfig:
    """Read and validate a config file; raises ConfigError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read ({exc})"]) from None
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str = "<config>") -> PressgateConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(
            [f"{source}: not valid TOML: arrays or tables nested too deeply to read"]
        ) from None
    return config_from_dict(raw, source=source)


def config_from_dict(raw: dict[str, Any], *, source: str = "<config>") -> PressgateConfig:
    try:
        config = PressgateConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            [f"{source}: {_where(err['loc'], raw)}: {_message(err)}" for err in exc.errors()]
        ) from None
    from approvals.config_checks import cross_check  # it reads the classes defined here

    problems = [f"{source}: {problem}" for problem in cross_check(config)]
    if problems:
        raise ConfigError(problems)
    return config


def _where(loc: Iterable[int | str], raw: dict[str, Any]) -> str:
    """Name a key the way a person finds it in the file: `accounts[@dept_news].timezone`."""
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            entry = node[item]
            label = None
            if isinstance(entry, dict):
                label = entry.get("handle") or entry.get("email")
            parts[-1] += f"[{label}]" if isinstance(label, str) else f"[#{item + 1}]"
            node = entry
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    message = str(err["msg"]).removeprefix("Value error, ")
    return message


def _same_handle(handle: str, key: str) -> bool:
    try:
        return normalise_handle(handle) == key
    except ValueError:
        return False
