"""A post's past: its revisions, who decided on which, and its audit trail in plain words.

The audit log stores details as JSON for machines and for `audit verify`; people reading a
post's trail need sentences ("rescheduled from 09:30 GMT to 10:00 GMT"), with times in the
account's zone. Nothing here writes: it is what the post and review pages read.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from approvals.models import Approval, Decision, Person, Post, Revision
from approvals.records.audit import entries_for
from approvals.schedule import show_local

HASH_SHOWN = 12  # characters of a content hash people compare by eye


@dataclass(frozen=True)
class RevisionRow:
    number: int
    author: str
    created_at: datetime
    content_hash: str


@dataclass(frozen=True)
class DecisionRow:
    """One approver's decision on one revision (a rejection replaces their approval)."""

    person_id: int
    email: str
    revision: int
    decision: Decision
    reason: str | None
    at: datetime
    via: str


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    words: str  # the details, as a sentence
    via: str | None  # the door it came through: cli, web, slack (None: before doors were kept)


def revisions_of(session: Session, post: Post) -> list[RevisionRow]:
    """Every revision, oldest first, with its author's e-mail (one query)."""
    rows = session.exec(
        select(Revision, Person.email)
        .join(Person, col(Person.id) == col(Revision.created_by_id))
        .where(Revision.post_id == post.id)
        .order_by(col(Revision.number))
    ).all()
    return [RevisionRow(r.number, email, r.created_at, r.content_hash) for r, email in rows]


def decisions_on(session: Session, post: Post) -> list[DecisionRow]:
    """Every approval and rejection of any revision, oldest first (one query)."""
    rows = session.exec(
        select(Approval, Revision.number, Person.email)
        .join(Revision, col(Revision.id) == col(Approval.revision_id))
        .join(Person, col(Person.id) == col(Approval.person_id))
        .where(Approval.post_id == post.id)
        .order_by(col(Approval.created_at), col(Approval.id))
    ).all()
    return [
        DecisionRow(a.person_id, email, number, a.decision, a.reason, a.created_at, a.via)
        for a, number, email in rows
    ]


def last_decision(decisions: list[DecisionRow], person_id: int) -> DecisionRow | None:
    """The person's decision on the newest revision they decided on: what they last saw."""
    mine = [d for d in decisions if d.person_id == person_id]
    return max(mine, key=lambda d: (d.revision, d.at), default=None)


def trail(session: Session, post: Post) -> list[TrailEntry]:
    """The post's audit entries, oldest first, each summarised in words."""
    result: list[TrailEntry] = []
    for entry in entries_for(session, f"post:{post.id}"):
        details = json.loads(entry.details)
        via = details.get("via")
        result.append(
            TrailEntry(
                seq=entry.seq,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                words=describe(entry.action, details, post.timezone),
                via=str(via) if via is not None else None,
            )
        )
    return result


def describe(action: str, details: dict[str, Any], zone: str) -> str:
    """One audit entry's details as a sentence; unknown actions list their details."""

    def when(value: Any) -> str:
        return show_local(datetime.fromisoformat(value), zone) if value else "unscheduled"

    def short(value: Any) -> str:
        return str(value)[:HASH_SHOWN]

    get = details.get
    if action == "post.draft":
        schedule = f"to publish {when(get('scheduled_at'))}" if get("scheduled_at") else "no time"
        return (
            f"drafted for {get('account')} as revision {get('revision')} "
            f"(hash {short(get('hash'))}), {schedule}"
        )
    if action == "post.edit":
        return f"edited: revision {get('revision')} (hash {short(get('hash'))})"
    if action == "post.schedule":
        before, after = get("from"), get("to")
        if before is None:
            return f"scheduled for {when(after)}"
        if after is None:
            return f"unscheduled (was {when(before)})"
        return f"rescheduled from {when(before)} to {when(after)}"
    if action == "approval.approve":
        return (
            f"approved revision {get('revision')} (hash {short(get('hash'))}); "
            f"{get('counted')} of {get('required')} approvals count"
        )
    if action == "approval.reject":
        return f"rejected revision {get('revision')} (hash {short(get('hash'))}): {get('reason')}"
    if action == "post.stray_found":
        return f"a stray copy of part {_part(get('part'))} reached X as {get('x_post_id')}"
    if action == "post.stray_removed":
        return f"stray copy {get('x_post_id')} of part {_part(get('part'))} removed from X"
    if action == "post.reminder":
        asked = ", ".join(get("asked") or []) or "nobody"
        return f"approvers reminded ({get('missing')} more needed): {asked}"
    if action == "post.outcome_unknown":
        return f"outcome of a call to X unknown ({get('error')}); looked up again before retrying"
    if action == "post.reconciled":
        found = get("found_parts") or {}
        listed = ", ".join(f"part {_part(k)}: {v}" for k, v in found.items()) or "nothing"
        return f"looked up on the account's timeline: found {listed}"
    if "from" in details and "to" in details:  # a change of state (workflow.move)
        return _state_change(details)
    return _listed(details)


def _state_change(details: dict[str, Any]) -> str:
    words = [f"from {_state(details['from'])} to {_state(details['to'])}"]
    if details.get("reason"):
        words.append(f"reason: {details['reason']}")
    if details.get("approvers"):
        words.append("approved by " + ", ".join(details["approvers"]))
    if details.get("deleted"):
        words.append("deleted from X: " + ", ".join(details["deleted"]))
    if details.get("sandbox"):
        words.append("sandbox (not on X)")
    return "; ".join(words)


def _listed(details: dict[str, Any]) -> str:
    shown = [f"{key}: {value}" for key, value in sorted(details.items()) if key != "via"]
    return "; ".join(shown) or "no details"


def _state(value: Any) -> str:
    return str(value).replace("_", " ")


def _part(position: Any) -> int:
    return int(position) + 1
