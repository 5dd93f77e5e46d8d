"""The states a post moves through and the decisions on it.

Apart from the tables in `approvals.models` so that the command line can offer them as
choices without loading the database layer at start (`pressgate --help` stays quick).
"""

from enum import StrEnum


class PostState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    QUEUED = "queued"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    FAILED = "failed"
    TAKEN_DOWN = "taken_down"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
