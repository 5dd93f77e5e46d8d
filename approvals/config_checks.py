"""The map's checks across its sections, after each key has been read on its own.

Apart from `approvals.config` so that module stays the shape of the file; it imports this
module when a map is read, so the classes it names are defined by then.
"""

from approvals.config import (
    PUBLISHING_ACTIONS,
    WILDCARD,
    AccountConfig,
    Action,
    PressgateConfig,
    _same_handle,
    normalise_handle,
)
from approvals.content.policy_config import POLICY_RULES
from approvals.errors import InvalidInput
from approvals.schedule import local_to_utc
from approvals.signoff.config_stages import (
    APPROVAL_SETTINGS,
    check_account_stages,
    check_extra_stages,
)


def cross_check(config: PressgateConfig) -> list[str]:
    """What no single key can say is wrong: references between accounts, roles, people,
    blackouts, stages, budgets and guidance."""
    problems: list[str] = []
    accounts: dict[str, AccountConfig] = {}
    for account in config.accounts:
        where = f"accounts[{account.handle}]"
        if account.key in accounts:
            problems.append(f"{where}: account defined twice")
        accounts[account.key] = account
        if account.kind == "personal":
            for key in APPROVAL_SETTINGS:
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
    corporate: dict[str, tuple[AccountConfig, set[str]]] = {}
    for account in config.accounts:
        if account.kind != "corporate":
            continue
        eligible = _eligible_approvers(config, account)
        if account.stages is None and account.required > len(eligible):
            problems.append(
                f"accounts[{account.handle}].approvals_required: needs {account.required} "
                f"approvals but only {len(eligible)} people may approve on it"
            )
        problems.extend(check_account_stages(config, account, eligible))
        corporate[account.key] = (account, eligible)
    problems.extend(
        check_extra_stages(config, corporate, defined=set(accounts), known_rules=POLICY_RULES)
    )
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
