"""A policy finding: what a check found, where, how serious, and why it matters."""

from dataclasses import dataclass
from typing import Literal

Severity = Literal["block", "warn"]


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "personal_data.email"; see approvals.config.POLICY_RULES
    severity: Severity
    part: int  # index of the part in a thread (0 for a single post)
    start: int  # Python str offsets into that part's text; equal when it concerns the whole part
    end: int
    excerpt: str  # the offending text (or a short description when there is no span)
    explanation: str  # one plain sentence for the press officer or approver

    @property
    def blocking(self) -> bool:
        return self.severity == "block"
