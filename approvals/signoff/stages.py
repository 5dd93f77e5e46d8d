"""Approval stages: which sign-offs a post needs, and whether its approvals fill them.

An account's rule is an ordered list of stages, each "any N of a role" or "all of a role";
policy findings on the post's words and tags on the post add stages (`[[extra_stages]]`).
Which stages apply, who may fill them and which approvals still count are all worked out
again from the map in force each time they are asked, never stored, so a map reload, a new
finding or a new tag takes effect at the next decision and at publish.

One person's approval fills one place in one stage: a post that needs the press lead and
legal needs two different people, even if someone holds both roles. The places are filled
by a maximum matching, earlier stages first, so an approval is never "used up" in a stage
where another approver could have stood in.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from approvals.config import AccountConfig, Action, PressgateConfig
from approvals.permissions import PermissionMap

ACCOUNT_RULE = "account rule"


@dataclass(frozen=True)
class RequiredStage:
    name: str
    role: str | None  # None: anyone who may approve on the account
    need: int | str  # a number, or "all"
    why: str  # "account rule", "finding personal_data.postcode", "tag pre-election"


@dataclass(frozen=True)
class StageStatus:
    name: str
    role: str | None
    need: int | str
    why: str
    eligible: list[str]  # who may fill it now (authors and inactive people left out)
    signed: list[str]  # approvals that fill it
    places: int  # how many approvals it takes

    @property
    def met(self) -> bool:
        return len(self.signed) >= self.places

    @property
    def missing(self) -> int:
        return max(self.places - len(self.signed), 0)

    @property
    def rule(self) -> str:
        """ "any 2 of the approvers", "all of legal" """
        who = f"of {self.role}" if self.role else "of the approvers"
        return f"all {who}" if self.need == "all" else f"any {self.need} {who}"

    def describe(self) -> str:
        return f"{self.name} ({self.rule}; {self.why}): {len(self.signed)} of {self.places}"


def required_stages(
    config: PressgateConfig,
    account: AccountConfig,
    *,
    findings: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> list[RequiredStage]:
    """The account's stages in order, then each extra stage a finding or a tag calls for."""
    stages = [RequiredStage(s.name, s.role, s.need, ACCOUNT_RULE) for s in account.rule]
    names = {s.name for s in stages}
    found, tagged = set(findings), set(tags)
    for extra in config.extra_stages:
        if extra.name in names or not extra.covers(account.key):
            continue
        why = _trigger(extra.on_findings, found, "finding") or _trigger(
            extra.on_tags, tagged, "tag"
        )
        if why:
            stages.append(RequiredStage(extra.name, extra.role, extra.need, why))
            names.add(extra.name)
    return stages


def _trigger(wanted: list[str], present: set[str], kind: str) -> str | None:
    hits = [w for w in wanted if w in present]
    return f"{kind} {', '.join(hits)}" if hits else None


def eligible_for(
    stage: RequiredStage,
    pmap: PermissionMap,
    account: AccountConfig,
    *,
    candidates: Iterable[str],
    stand_ins: frozenset[str] = frozenset(),
) -> list[str]:
    """Who among `candidates` may fill the stage: they may approve on the account and hold
    its role. Deputies (`stand_ins`) fill "any N" stages once a post is escalated; an "all
    of" stage names its people, so nobody stands in for them."""
    people = {p.email: p for p in pmap.config.people}
    result: list[str] = []
    for email in candidates:
        person = people.get(email)
        if person is None or not pmap.can(email, Action.APPROVE, account.handle):
            continue
        if (
            stage.role is None
            or stage.role in person.roles
            or (stage.need != "all" and email in stand_ins)
        ):
            result.append(email)
    return result


@dataclass
class _Places:
    """Every place to fill: (stage index, who may fill it)."""

    owners: list[int] = field(default_factory=list)
    allowed: list[list[str]] = field(default_factory=list)


def fill(
    stages: list[RequiredStage], eligible: list[list[str]], approvals: list[str]
) -> list[StageStatus]:
    """Match approvals (e-mails, oldest first) to places, earlier stages first."""
    places = _Places()
    for index, (stage, people) in enumerate(zip(stages, eligible, strict=True)):
        if stage.need == "all":
            for person in people or [""]:  # nobody eligible: a place nobody can fill
                places.owners.append(index)
                places.allowed.append([person] if person else [])
        else:
            assert isinstance(stage.need, int)
            for _ in range(stage.need):
                places.owners.append(index)
                places.allowed.append(people)
    approved = set(approvals)
    order = {email: n for n, email in enumerate(approvals)}
    holder: dict[str, int] = {}  # person -> place

    def augment(place: int, seen: set[str]) -> bool:
        options = [p for p in places.allowed[place] if p in approved]
        options.sort(key=lambda p: order[p])
        for person in options:
            if person in seen:
                continue
            seen.add(person)
            if person not in holder or augment(holder[person], seen):
                holder[person] = place
                return True
        return False

    for place in range(len(places.owners)):
        augment(place, set())
    signed: list[list[str]] = [[] for _ in stages]
    for person in approvals:
        if person in holder:
            signed[places.owners[holder[person]]].append(person)
    return [
        StageStatus(
            name=stage.name,
            role=stage.role,
            need=stage.need,
            why=stage.why,
            eligible=list(people),
            signed=signed[index],
            places=places.owners.count(index),
        )
        for index, (stage, people) in enumerate(zip(stages, eligible, strict=True))
    ]


@dataclass(frozen=True)
class StageRule:
    """A stage as `map explain` shows it: when it applies and who may fill it."""

    name: str
    rule: str
    when: str  # "always", or the findings and tags that add it
    eligible: list[str]


def explain_stages(pmap: PermissionMap, account: AccountConfig) -> list[StageRule]:
    """Every stage a post on `account` may need under this map, in the order they apply."""
    people = [p.email for p in pmap.config.people]
    rules: list[StageRule] = []
    stages = [(RequiredStage(s.name, s.role, s.need, ACCOUNT_RULE), "always") for s in account.rule]
    names = {s.name for s, _ in stages}
    for extra in pmap.config.extra_stages:
        if extra.name in names or not extra.covers(account.key):
            continue
        triggers = [f"finding {f}" for f in extra.on_findings] + [f"tag {t}" for t in extra.on_tags]
        stages.append(
            (RequiredStage(extra.name, extra.role, extra.need, "extra"), " or ".join(triggers))
        )
    for stage, when in stages:
        status = StageStatus(stage.name, stage.role, stage.need, stage.why, [], [], 0)
        eligible = eligible_for(stage, pmap, account, candidates=people)
        rules.append(StageRule(stage.name, status.rule, when, eligible))
    return rules
