"""The permission map: who may do what on which corporate account.

Built from a validated `PressgateConfig`. Every state change asks `require()` against the
map in force at that moment (the newest version stored in the database), so a map reload
takes effect for the next action everywhere, including posts already approved.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from approvals.config import (
    WILDCARD,
    AccountConfig,
    Action,
    PersonConfig,
    PressgateConfig,
    normalise_handle,
)
from approvals.errors import NotFound, PermissionDenied


@dataclass(frozen=True)
class Grant:
    role: str
    action: Action
    accounts: frozenset[str]  # account keys; WILDCARD means every corporate account
    global_scope: bool


@dataclass
class PermissionMap:
    config: PressgateConfig
    _grants: dict[str, list[Grant]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: PressgateConfig) -> "PermissionMap":
        pm = cls(config)
        for person in config.people:
            grants: list[Grant] = []
            for role_name in person.roles:
                role = config.roles[role_name]
                keys = frozenset(
                    WILDCARD if h == WILDCARD else normalise_handle(h) for h in role.accounts
                )
                for action in role.actions:
                    grants.append(Grant(role_name, action, keys, WILDCARD in keys))
            pm._grants[person.email] = grants
        return pm

    # --- lookups -------------------------------------------------------------------
    def person(self, email: str) -> PersonConfig:
        email = email.strip().lower()
        found = next((p for p in self.config.people if p.email == email), None)
        if found is None:
            raise NotFound(f"{email} is not in the permission map")
        return found

    def account(self, handle: str) -> AccountConfig:
        try:
            found = self.config.account(handle)
        except ValueError as exc:
            raise NotFound(str(exc)) from None
        if found is None:
            raise NotFound(f"account {handle} is not in the permission map")
        return found

    def corporate_accounts(self) -> list[AccountConfig]:
        return [a for a in self.config.accounts if a.kind == "corporate"]

    # --- questions -------------------------------------------------------------------
    def can(self, email: str, action: Action, handle: str | None = None) -> bool:
        """May `email` take `action` on the account (or, with no account, everywhere)?"""
        grants = self._grants.get(email.strip().lower(), [])
        if handle is None:
            return any(g.action == action and g.global_scope for g in grants)
        account = self.config.account(handle)
        if account is None or account.kind != "corporate":
            return False
        return any(
            g.action == action and (g.global_scope or account.key in g.accounts) for g in grants
        )

    def require(self, email: str, action: Action, handle: str | None = None) -> None:
        if not self.can(email, action, handle):
            where = f"on {self.account(handle).handle}" if handle else "on every account"
            raise PermissionDenied(f"{email} may not {action.value} {where}")

    def holders(self, action: Action, handle: str) -> list[str]:
        """E-mails of everyone who may take `action` on the account, in map order."""
        return [p.email for p in self.config.people if self.can(p.email, action, handle)]

    def rights_of(self, email: str) -> dict[str, list[Action]]:
        """Account handle -> actions, for `map explain`; `*` for rights held everywhere."""
        self.person(email)
        result: dict[str, list[Action]] = {}
        for grant in self._grants.get(email.lower(), []):
            targets: Iterable[str] = (
                [WILDCARD]
                if grant.global_scope
                else [self.account(k).handle for k in sorted(grant.accounts)]
            )
            for target in targets:
                actions = result.setdefault(target, [])
                if grant.action not in actions:
                    actions.append(grant.action)
        return result

    def roles_granting(self, email: str, action: Action, handle: str) -> list[str]:
        account = self.account(handle)
        return sorted(
            {
                g.role
                for g in self._grants.get(email.lower(), [])
                if g.action == action and (g.global_scope or account.key in g.accounts)
            }
        )
