"""The permission map in force: versions stored in the database, people and accounts synced.

Every process (web, workers, CLI) reads the newest stored version, so all replicas judge an
action by the same map, and a reload reaches posts that are already approved: rights are
checked again when they publish.
"""

import hashlib
import re
import threading
from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, col, select

from approvals.config import Action, PressgateConfig
from approvals.db import transaction_memo
from approvals.errors import NotFound, Refused
from approvals.models import Account, ConfigVersion, Person
from approvals.permissions import PermissionMap
from approvals.records import audit
from approvals.records.audit import canonical_json

_HANDLE_KEY = re.compile(r"[a-z0-9_]{1,15}")


def config_hash(config: PressgateConfig) -> str:
    return hashlib.sha256(canonical_json(config.model_dump(mode="json")).encode()).hexdigest()


@lru_cache(maxsize=16)
def _map_from_document(document: str) -> PermissionMap:
    return PermissionMap.from_config(PressgateConfig.model_validate_json(document))


def current_version(session: Session) -> ConfigVersion | None:
    return session.exec(
        select(ConfigVersion).order_by(col(ConfigVersion.id).desc()).limit(1)
    ).first()


def current_map(session: Session) -> PermissionMap:
    """The map in force. Each claim, approval and notice asks for it, and a map of 500
    accounts takes milliseconds to parse: only the newest version's id and hash are read
    here, and the parsed map is kept per process for that version (callers never change it).
    Within one transaction the first answer stands (a consistent view, and one query per
    transaction rather than one per rule checked); `apply_config` forgets it.
    """
    memo = transaction_memo(session, _IN_FORCE)
    if "map" in memo:
        return memo["map"]  # type: ignore[no-any-return]
    row = session.exec(
        select(ConfigVersion.id, ConfigVersion.content_hash)
        .order_by(col(ConfigVersion.id).desc())
        .limit(1)
    ).first()
    if row is None:
        raise Refused("no permission map has been loaded yet; run `pressgate init` first")
    key = (int(row[0] or 0), str(row[1]))
    with _parsed_lock:
        parsed = _parsed.get(key)
    if parsed is None:
        document = session.exec(
            select(ConfigVersion.document).where(ConfigVersion.id == key[0])
        ).one()
        parsed = _map_from_document(document)
        with _parsed_lock:
            _parsed.clear()  # only the version in force is worth keeping
            _parsed[key] = parsed
    memo["map"] = parsed
    return parsed


_IN_FORCE = "pressgate.map_in_force"  # transaction memo: the map this transaction judges by
_parsed: dict[tuple[int, str], PermissionMap] = {}
_parsed_lock = threading.Lock()


def apply_config(
    session: Session,
    *,
    config: PressgateConfig,
    source: str,
    actor: str,
    now: datetime,
    operator: bool = False,
) -> ConfigVersion | None:
    """Make `config` the map in force. Returns the new version, or None if nothing changed.

    A person may replace the map only if the map in force grants them `manage` on every
    account. `operator=True` skips that check: it is for the installation's very first map
    (`install_config`), when nobody holds `manage` yet.
    """
    current = current_version(session)
    if not operator:
        if current is None:
            raise Refused("no permission map is in force yet; run `pressgate init` first")
        _map_from_document(current.document).require(actor, Action.MANAGE)
    digest = config_hash(config)
    if current is not None and current.content_hash == digest:
        return None
    version = ConfigVersion(
        content_hash=digest,
        document=canonical_json(config.model_dump(mode="json")),
        source=source,
        applied_by=actor,
        applied_at=now,
    )
    session.add(version)
    transaction_memo(session, _IN_FORCE).clear()  # the map in force changes in this transaction
    added, removed = _sync_rows(session, config)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="map.load",
        subject=f"map:{version.id}",
        at=now,
        details={
            "content_hash": digest,
            "source": source,
            "previous_hash": current.content_hash if current else None,
            "people_added": added["people"],
            "people_removed": removed["people"],
            "accounts_added": added["accounts"],
            "accounts_removed": removed["accounts"],
        },
    )
    return version


def install_config(
    session: Session, *, config: PressgateConfig, source: str, actor: str | None, now: datetime
) -> ConfigVersion | None:
    """The map from the operator's own config file (`pressgate init`, `pressgate run`).

    The very first map is loaded by the installation itself and recorded as `system`. After
    that the file changes the map only as `map apply` does: `actor` must hold `manage` on
    every account, so no change of the map in force is ever recorded as `system`. The same
    file again changes nothing and needs nobody.
    """
    current = current_version(session)
    if current is None:
        return apply_config(
            session, config=config, source=source, actor=audit.SYSTEM, now=now, operator=True
        )
    if current.content_hash == config_hash(config):
        return None
    if actor is None:
        raise Refused(
            f"{source} differs from the permission map in force (version {current.id}); nothing "
            "changed: replace the map with `pressgate map apply --as EMAIL` or `pressgate init "
            "--as EMAIL` (someone holding `manage`)"
        )
    return apply_config(session, config=config, source=source, actor=actor.lower(), now=now)


def _sync_rows(
    session: Session, config: PressgateConfig
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Upsert people and accounts; those no longer in the map are kept (history) but inactive."""
    added: dict[str, list[str]] = {"people": [], "accounts": []}
    removed: dict[str, list[str]] = {"people": [], "accounts": []}
    people = {p.email: p for p in session.exec(select(Person)).all()}
    for pc in config.people:
        person = people.pop(pc.email, None)
        if person is None:
            person = Person(email=pc.email)
            added["people"].append(pc.email)
        person.name, person.slack_user_id, person.active = pc.name, pc.slack_id, True
        session.add(person)
    for person in people.values():
        if person.active:
            removed["people"].append(person.email)
            person.active = False
            session.add(person)

    accounts = {a.key: a for a in session.exec(select(Account)).all()}
    for ac in config.accounts:
        account = accounts.pop(ac.key, None)
        if account is None:
            account = Account(key=ac.key, handle=ac.handle, kind=ac.kind)
            added["accounts"].append(ac.handle)
        account.handle, account.kind = ac.handle, ac.kind
        account.approvals_required = ac.required
        account.timezone, account.slack_channel = ac.timezone, ac.slack_channel
        account.active = True
        session.add(account)
    for account in accounts.values():
        if account.active:
            removed["accounts"].append(account.handle)
            account.active = False
            session.add(account)
    return added, removed


def get_person(session: Session, email: str) -> Person:
    """The acting person, who must be in the map in force (removed people act no more)."""
    key = email.strip().lower()
    # NUL is in no address, and PostgreSQL refuses it in a query: not looked up at all.
    person = (
        None if "\x00" in key else session.exec(select(Person).where(Person.email == key)).first()
    )
    if person is None or not person.active:
        raise NotFound(f"{email} is not in the permission map")
    return person


def person_on_slack(session: Session, slack_user_id: str) -> Person:
    """The person whose `slack_id` in the map in force is this Slack user: the only way a
    click or a command in Slack names someone."""
    person = session.exec(
        select(Person).where(Person.slack_user_id == slack_user_id, col(Person.active))
    ).first()
    if person is None or not slack_user_id:
        raise NotFound(
            f"pressgate does not know you (Slack user {slack_user_id or 'unknown'}): ask whoever "
            "keeps the permission map to add your slack_id to it"
        )
    return person


def get_account(session: Session, handle: str) -> Account:
    key = handle.strip().lstrip("@").lower()
    account = None
    if _HANDLE_KEY.fullmatch(key):  # what is not a handle (NUL, say) is not looked up at all
        account = session.exec(select(Account).where(Account.key == key)).first()
    if account is None or not account.active:
        raise NotFound(f"account {handle} is not in the permission map")
    return account
