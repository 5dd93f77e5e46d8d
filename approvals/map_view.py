"""The permission map in force as people read it: who may do what where, and which version.

The same answers as `pressgate map explain` (`PermissionMap.holders` and `rights_of`), for
every account and every person at once. The map is not secret inside the organisation,
but the personal handles it lists for staff are there for the content policy (never to be
mentioned by a corporate post), not for colleagues to browse: they are left out here.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from approvals.config import WILDCARD, Action
from approvals.errors import Refused
from approvals.map_store import current_map, current_version


@dataclass(frozen=True)
class MapVersion:
    id: int
    content_hash: str
    applied_by: str
    applied_at: datetime


@dataclass(frozen=True)
class AccountRights:
    handle: str
    name: str | None
    kind: str  # corporate | personal
    approvals_required: int | None  # None for personal accounts: nothing is posted there
    timezone: str
    quiet_hours: str | None
    slack_channel: str | None
    holders: list[tuple[str, list[str]]]  # (action, e-mails), every action in map order


@dataclass(frozen=True)
class PersonRights:
    email: str
    name: str | None
    roles: list[str]
    rights: list[tuple[str, list[str]]]  # (account handle or "every corporate account", actions)


@dataclass(frozen=True)
class MapView:
    version: MapVersion
    accounts: list[AccountRights]
    people: list[PersonRights]


EVERYWHERE = "every corporate account"


def map_view(session: Session) -> MapView:
    version = current_version(session)
    if version is None or version.id is None:
        raise Refused("no permission map has been loaded yet; run `pressgate init` first")
    pmap = current_map(session)
    accounts = [
        AccountRights(
            handle=a.handle,
            name=a.name,
            kind=a.kind,
            approvals_required=a.required if a.kind == "corporate" else None,
            timezone=a.timezone,
            quiet_hours=f"{a.quiet_hours.start}-{a.quiet_hours.end}" if a.quiet_hours else None,
            slack_channel=a.slack_channel,
            holders=(
                [(action.value, pmap.holders(action, a.handle)) for action in Action]
                if a.kind == "corporate"
                else []
            ),
        )
        for a in pmap.config.accounts
    ]
    people = [
        PersonRights(
            email=p.email,
            name=p.name,
            roles=list(p.roles),
            rights=[
                (EVERYWHERE if target == WILDCARD else target, [a.value for a in actions])
                for target, actions in pmap.rights_of(p.email).items()
            ],
        )
        for p in pmap.config.people
    ]
    shown = MapVersion(version.id, version.content_hash, version.applied_by, version.applied_at)
    return MapView(shown, accounts, people)
