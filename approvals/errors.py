"""Domain errors: every refusal a person can meet, each with a message they can act on.

Two families matter to callers: `Refused` (a rule said no; CLI exit status 1, HTTP 403/409)
and `InvalidInput` (the request itself is malformed; exit status 2, HTTP 400/422).
"""


class PressgateError(Exception):
    """Base of all domain errors; `str(err)` is the message shown to the person."""

    exit_code = 1


class Refused(PressgateError):
    """A governance rule forbids the action (permission, state, quorum, pause...)."""

    exit_code = 1


class PermissionDenied(Refused):
    """The acting person does not hold the right on that account under the current map."""


class IllegalTransition(Refused):
    """The post's state does not allow the action."""


class StaleRevision(Refused):
    """The action names a revision that is no longer the post's current one."""


class LinkSpent(Refused):
    """A signed review link that expired, or that has already been used for a decision."""


class InvalidInput(PressgateError):
    """The input is malformed: a bad time, an unknown id, an empty text."""

    exit_code = 2


class NotFound(InvalidInput):
    """A post, person or account named in the request does not exist."""


class ConfigError(InvalidInput):
    """The configuration file is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class AuditBroken(Refused):
    """The audit log does not hold (its head was changed outside pressgate, or this process
    has another key): nothing more is recorded until someone looks (`pressgate audit verify`)."""
