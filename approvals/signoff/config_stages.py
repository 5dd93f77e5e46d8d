"""The approval-stage part of the map: stages, extra stages, tags, and their checks.

Kept apart from `approvals.config` (which imports it) so that module stays one concept per
file; nothing here imports `approvals.config` at run time. The checks are called from
`config_checks.cross_check` with who may approve on each account already worked out.
"""

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from approvals.config import AccountConfig, PressgateConfig

WILDCARD = "*"
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# Account keys that only a corporate account may set: they are about publishing.
APPROVAL_SETTINGS = (
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


def normalise_tag(value: str) -> str:
    """Tags on a post (`pre-election`, a campaign) are lower case words joined by - or _."""
    tag = value.strip().lower().lstrip("#")
    if not _TAG.match(tag):
        raise ValueError(
            f"{value!r} is not a tag (1-40 lower-case letters, digits, - or _, e.g. pre-election)"
        )
    return tag


class StageConfig(BaseModel):
    """One step of an account's approval rule: "any `need` of `role`" or "all of `role`".

    With no `role`, anyone who may approve on the account can satisfy the stage, which is
    what a plain `approvals_required = N` has always meant.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
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

    @field_validator("on_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return [normalise_tag(t) for t in value]

    def covers(self, key: str) -> bool:
        return WILDCARD in self.accounts or any(
            h.strip().lstrip("@").lower() == key for h in self.accounts
        )


def check_stage(
    config: "PressgateConfig",
    stage: StageConfig,
    account: "AccountConfig",
    eligible: set[str],
    where: str,
) -> list[str]:
    """A stage must name a defined role whose holders may approve on the account (`eligible`),
    enough of them to meet it: a rule nobody can satisfy would hold every post for ever."""
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


def check_account_stages(
    config: "PressgateConfig", account: "AccountConfig", eligible: set[str]
) -> list[str]:
    """An account's stages, escalation roles and lead times."""
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
            here = f"{where}.stages[{stage.name}]"
            problems.extend(check_stage(config, stage, account, eligible, here))
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


def check_extra_stages(
    config: "PressgateConfig",
    corporate: dict[str, tuple["AccountConfig", set[str]]],
    *,
    defined: Collection[str],
    known_rules: Collection[str],
) -> list[str]:
    """Extra stages: a trigger each, known rules, defined accounts (`defined` keys), and for
    every corporate account they cover (key -> account, who may approve), enough people."""
    problems: list[str] = []
    for stage in config.extra_stages:
        where = f"extra_stages[{stage.name}]"
        if not stage.on_findings and not stage.on_tags:
            problems.append(f"{where}: say when it applies (on_findings or on_tags)")
        unknown = sorted(set(stage.on_findings) - set(known_rules))
        if unknown:
            problems.append(
                f"{where}.on_findings: unknown policy rule {', '.join(map(repr, unknown))}"
            )
        for handle in stage.accounts:
            if handle != WILDCARD and handle.strip().lstrip("@").lower() not in defined:
                problems.append(f"{where}.accounts: account {handle!r} is not defined")
        for key, (account, eligible) in corporate.items():
            if stage.covers(key):
                problems.extend(check_stage(config, stage, account, eligible, where))
    return problems
