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
from approvals.errors import ConfigError, InvalidInput
from approvals.schedule import local_to_utc

DEFAULT_TIMEZONE = "Europe/London"
WILDCARD = "*"
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


_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def normalise_tag(value: str) -> str:
    """Tags on a post (`pre-election`, a campaign) are lower case words joined by - or _."""
    tag = value.strip().lower().lstrip("#")
    if not _TAG.match(tag):
        raise ValueError(
            f"{value!r} is not a tag (1-40 lower-case letters, digits, - or _, e.g. pre-election)"
        )
    return tag


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


class StageConfig(_Strict):
    """One step of an account's approval rule: "any `need` of `role`" or "all of `role`".

    With no `role`, anyone who may approve on the account can satisfy the stage, which is
    what a plain `approvals_required = N` has always meant.
    """

    name: str = Field(min_length=1, max_length=40)
    role: str | None = None
    need: int | Literal["all"] = 1

    @field_validator("need")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f'must be at least 1 or "all" (got {value})')
        return value


class ExtraStageConfig(StageConfig):
    """A stage added to a post's rule when a policy finding or a tag on the post calls for it
    (a post naming a taxpayer's case needs legal too; a pre-election post needs propriety)."""

    on_findings: list[str] = Field(default_factory=list)
    on_tags: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=lambda: [WILDCARD])

    @field_validator("on_findings")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(POLICY_RULES))
        if unknown:
            raise ValueError(f"unknown policy rule {', '.join(map(repr, unknown))}")
        return value

    @field_validator("on_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return [normalise_tag(t) for t in value]

    def covers(self, key: str) -> bool:
        return WILDCARD in self.accounts or any(_same_handle(h, key) for h in self.accounts)


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


class UtmConfig(_Strict):
    """Campaign tags added to links (to allowed domains) when a post is drafted."""

    source: str = "twitter"
    medium: str = "social"
    campaign: str


class PolicyConfig(_Strict):
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
    problems = [f"{source}: {problem}" for problem in _cross_check(config)]
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


def _cross_check(config: PressgateConfig) -> list[str]:
    problems: list[str] = []
    accounts: dict[str, AccountConfig] = {}
    for account in config.accounts:
        where = f"accounts[{account.handle}]"
        if account.key in accounts:
            problems.append(f"{where}: account defined twice")
        accounts[account.key] = account
        if account.kind == "personal":
            for key in _APPROVAL_SETTINGS:
                if getattr(account, key) is not None:
                    problems.append(
                        f"{where}.{key}: personal accounts are never published to, "
                        "so they take no approval settings"
                    )
        elif account.approvals_required is not None and account.approvals_required < 1:
            problems.append(
                f"{where}.approvals_required: must be at least 1 (got {account.approvals_required})"
            )

    for name, role in config.roles.items():
        for handle in role.accounts:
            if handle == WILDCARD:
                continue
            try:
                key = normalise_handle(handle)
            except ValueError as exc:
                problems.append(f"roles.{name}.accounts: {exc}")
                continue
            target = accounts.get(key)
            if target is None:
                problems.append(
                    f"roles.{name}.accounts: account {handle!r} is not defined in [[accounts]]"
                )
            elif target.kind == "personal":
                granted = sorted(set(role.actions) & PUBLISHING_ACTIONS)
                if granted:
                    problems.append(
                        f"roles.{name}.accounts: {target.handle} is a personal account; "
                        f"it cannot be given {', '.join(granted)} rights (guidance only)"
                    )

    seen_emails: set[str] = set()
    seen_slack: set[str] = set()
    for person in config.people:
        where = f"people[{person.email}]"
        if person.email in seen_emails:
            problems.append(f"{where}: person defined twice")
        seen_emails.add(person.email)
        if person.slack_id:
            if person.slack_id in seen_slack:
                problems.append(f"{where}.slack_id: {person.slack_id} belongs to another person")
            seen_slack.add(person.slack_id)
        for role_name in person.roles:
            if role_name not in config.roles:
                known = ", ".join(sorted(config.roles)) or "none"
                problems.append(
                    f"{where}.roles: unknown role {role_name!r} (defined roles: {known})"
                )
        for handle in person.personal_handles:
            declared = accounts.get(handle[1:].lower())
            if declared is not None and declared.kind == "corporate":
                problems.append(
                    f"{where}.personal_handles: {handle} is a corporate account, not personal"
                )

    problems.extend(_check_blackouts(config, accounts))
    union = config.guidance.union_role
    if union is not None and union not in config.roles:
        problems.append(f"guidance.union_role: unknown role {union!r}")
    for key in config.budgets.accounts:
        if key not in accounts or accounts[key].kind != "corporate":
            problems.append(f"budgets.accounts: {key!r} is not a corporate account in the map")
    for account in config.accounts:
        if account.kind != "corporate":
            continue
        eligible = _eligible_approvers(config, account)
        if account.stages is None and account.required > len(eligible):
            problems.append(
                f"accounts[{account.handle}].approvals_required: needs {account.required} "
                f"approvals but only {len(eligible)} people may approve on it"
            )
        problems.extend(_check_stages(config, account, eligible))
    problems.extend(_check_extra_stages(config, accounts))
    return problems


_APPROVAL_SETTINGS = (
    "approvals_required",
    "stages",
    "approval_max_age_hours",
    "escalate_within_minutes",
    "duty_within_minutes",
    "deputy_role",
    "duty_role",
    "slack_channel",
    "quiet_hours",
)


def _check_stage(
    config: PressgateConfig, stage: StageConfig, account: AccountConfig, where: str
) -> list[str]:
    """A stage must name a defined role whose holders may approve on the account, enough of
    them to meet it: a rule nobody can satisfy would hold every post for ever."""
    eligible = _eligible_approvers(config, account)
    if stage.role is not None:
        if stage.role not in config.roles:
            known = ", ".join(sorted(config.roles)) or "none"
            return [f"{where}.role: unknown role {stage.role!r} (defined roles: {known})"]
        eligible = {p.email for p in config.people if stage.role in p.roles} & eligible
    wanted = 1 if stage.need == "all" else stage.need
    if wanted > len(eligible):
        who = f"holders of {stage.role!r}" if stage.role else "people"
        return [
            f"{where}.need: needs {stage.need} approvals on {account.handle} but only "
            f"{len(eligible)} {who} may approve on it"
        ]
    return []


def _check_stages(config: PressgateConfig, account: AccountConfig, eligible: set[str]) -> list[str]:
    where = f"accounts[{account.handle}]"
    problems: list[str] = []
    if account.stages is not None:
        if account.approvals_required is not None:
            problems.append(f"{where}.stages: give either approvals_required or stages, not both")
        if not account.stages:
            problems.append(f"{where}.stages: give at least one stage")
        names = [s.name for s in account.stages]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{where}.stages: stage {name!r} is defined twice")
        for stage in account.stages:
            problems.extend(_check_stage(config, stage, account, f"{where}.stages[{stage.name}]"))
    for key in ("deputy_role", "duty_role"):
        role = getattr(account, key)
        if role is not None and role not in config.roles:
            problems.append(f"{where}.{key}: unknown role {role!r}")
    if (
        account.escalate_within_minutes is not None
        and account.duty_within_minutes is not None
        and account.duty_within_minutes > account.escalate_within_minutes
    ):
        problems.append(
            f"{where}.duty_within_minutes: the duty officer comes after the deputies, so it "
            f"must not exceed escalate_within_minutes ({account.escalate_within_minutes})"
        )
    return problems


def _check_extra_stages(config: PressgateConfig, accounts: dict[str, AccountConfig]) -> list[str]:
    problems: list[str] = []
    for stage in config.extra_stages:
        where = f"extra_stages[{stage.name}]"
        if not stage.on_findings and not stage.on_tags:
            problems.append(f"{where}: say when it applies (on_findings or on_tags)")
        for handle in stage.accounts:
            if handle != WILDCARD and accounts.get(handle.lstrip("@").lower()) is None:
                problems.append(f"{where}.accounts: account {handle!r} is not defined")
        for account in accounts.values():
            if account.kind == "corporate" and stage.covers(account.key):
                problems.extend(_check_stage(config, stage, account, where))
    return problems


def _check_blackouts(config: PressgateConfig, accounts: dict[str, AccountConfig]) -> list[str]:
    problems: list[str] = []
    for window in config.blackouts:
        where = f"blackouts[{window.name}]"
        for handle in window.accounts:
            if handle == WILDCARD:
                continue
            target = accounts.get(handle.lstrip("@").lower())
            if target is None:
                problems.append(f"{where}.accounts: account {handle!r} is not defined")
            elif target.kind != "corporate":
                problems.append(f"{where}.accounts: {target.handle} is personal; nothing posts")
        for key in ("start", "end"):
            try:
                local_to_utc(getattr(window, key), zone=window.timezone)
            except InvalidInput as exc:
                problems.append(f"{where}.{key}: {exc}")
        if window.end <= window.start:
            problems.append(f"{where}.end: must be after start")
    return problems


def _eligible_approvers(config: PressgateConfig, account: AccountConfig) -> set[str]:
    granting = {
        name
        for name, role in config.roles.items()
        if Action.APPROVE in role.actions
        and any(h == WILDCARD or _same_handle(h, account.key) for h in role.accounts)
    }
    return {p.email for p in config.people if granting & set(p.roles)}


def _same_handle(handle: str, key: str) -> bool:
    try:
        return normalise_handle(handle) == key
    except ValueError:
        return False
