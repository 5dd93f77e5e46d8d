"""Logging set-up for every pressgate process: structured, with ids, without secrets.

Every line goes through structlog, including those of the standard `logging` loggers that
pressgate and its libraries use: one JSON object per line in production
(`PRESSGATE_LOG_FORMAT=json`, or `auto` when standard error is not a terminal), coloured
`key=value` lines in a terminal. Ids bound with `structlog.contextvars` ride along on every
line logged while they are bound: `request_id` for a web request (bot/web/request_ids.py),
`post_id` and `account` while a worker publishes a post (bot/dispatcher.py).

Secrets never reach the output. The values of every secret setting (`SecretStr` fields of
`Settings`) are replaced by `[redacted]` wherever they appear, fields whose names say they
hold a secret are blanked, and so is the token of a signed review link in a path (`/a/…`).
tweepy, requests-oauthlib and oauthlib write request headers (bearer tokens, OAuth
signatures) at DEBUG, and Authlib the PKCE verifier of a sign-in, so they (and httpx2 and
httpcore2, which carry Authlib's calls) are held at WARNING whatever level is asked for.

APScheduler's executor says "Running job" and "executed successfully" at INFO for every
beat (four lines a second in a busy worker), and its scheduler "Added job" for every alarm:
APScheduler's INFO lines are turned into DEBUG ones, as are the access lines of health
probes and metric scrapes (`/healthz`, `/readyz`, `/metrics`), so an idle `pressgate run` is quiet
and `PRESSGATE_LOG_LEVEL=DEBUG` still shows them, as does its warning that a beat was
skipped because the previous pass still runs. Its other warnings (a missed run) stay.
"""

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, Literal, TextIO

import structlog
from pydantic import SecretStr
from structlog.typing import EventDict, Processor

from bot.settings import Settings

LogFormat = Literal["auto", "json", "console"]
REDACTED = "[redacted]"
NOISY_WITH_SECRETS = (
    "tweepy",
    "requests_oauthlib",
    "oauthlib",
    "urllib3",
    "authlib",
    "httpx2",
    "httpcore2",
)
SCHEDULER_CHATTER = "apscheduler"
# A beat that falls due while the previous pass still runs is skipped on purpose
# (max_instances=1): APScheduler warns of it, but it is a busy worker's normal day.
BEAT_SKIPPED = "maximum number of running instances reached"
MIGRATION_CONTEXT = "alembic.runtime.migration"
ACCESS_LOG = "uvicorn.access"
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})  # asked every few seconds
MIGRATION_CHATTER = ("Context impl", "Will assume")
SECRET_FIELD = re.compile(r"(secret|token|password|passwd|authorization|api_key|cookie)", re.I)
REVIEW_LINK = re.compile(r"(/a/)[^\s/?\"']+")
MIN_SECRET_LENGTH = 8  # shorter values would blank ordinary words


def secrets_of(settings: Settings) -> list[str]:
    """The values of every secret setting (SecretStr fields, and lists of them)."""
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, SecretStr) and len(item.get_secret_value()) >= MIN_SECRET_LENGTH:
                values.append(item.get_secret_value())
    return values


class Redact:
    """A structlog processor blanking secrets in every value of an event."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len)[::-1]

    def __call__(self, _logger: Any, _method: str, event: EventDict) -> EventDict:
        for key, value in list(event.items()):
            if SECRET_FIELD.search(key) and key not in {"event"} and value is not None:
                event[key] = REDACTED
            elif isinstance(value, str):
                event[key] = self.scrub(value)
        return event

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return REVIEW_LINK.sub(rf"\1{REDACTED}", text)


class ChatterIsDebug(logging.Filter):
    """Routine INFO lines become DEBUG ones (and are dropped below DEBUG): APScheduler's, the
    access lines of health probes and scrapes, and the two lines Alembic writes each time
    `/readyz` reads the schema's revision. Alembic's "Running upgrade" lines stay.

    On the handler, not the logger: the lines come from child loggers
    (`apscheduler.executors.default`), and a logger's filters do not see its children's."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _chatter(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def _chatter(record: logging.LogRecord) -> bool:
    if record.name == ACCESS_LOG and isinstance(record.args, tuple) and len(record.args) > 2:
        return str(record.args[2]) in PROBES  # (client, method, path, version, status)
    if record.name.startswith(SCHEDULER_CHATTER):
        return record.levelno == logging.INFO or BEAT_SKIPPED in record.getMessage()
    if record.name == MIGRATION_CONTEXT and record.levelno == logging.INFO:
        return record.getMessage().startswith(MIGRATION_CHATTER)
    return False


def _renderer(fmt: LogFormat, stream: TextIO) -> Processor:
    json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    if json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=stream.isatty())


def _render_exception(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """A traceback as text before redaction, so a secret in an error message is blanked too
    (both renderers print an `exception` string as it is)."""
    event.pop("color_message", None)  # uvicorn's coloured copy of the message
    if event.get("exc_info"):
        return structlog.processors.format_exc_info(_logger, _method, event)
    return event


def configure_logging(
    level: str,
    fmt: LogFormat = "auto",
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Send every log line, ours and libraries', to `stream` (standard error) as `fmt`."""
    out = stream if stream is not None else sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _render_exception,
            Redact(secrets),
            _renderer(fmt, out),
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(ChatterIsDebug())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in NOISY_WITH_SECRETS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger(SCHEDULER_CHATTER).setLevel(logging.NOTSET)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def bind(**ids: Any) -> Any:
    """Bind ids (post_id, request_id…) to every line logged in this context."""
    return structlog.contextvars.bound_contextvars(**ids)


__all__ = ["REDACTED", "LogFormat", "Redact", "bind", "configure_logging", "secrets_of"]
