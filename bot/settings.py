"""The one place that reads the environment. Everything else is handed a `Settings`."""

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from approvals.errors import InvalidInput, Refused
from approvals.files import shipped
from approvals.records.audit_keys import AuditKeyring

DEFAULT_DATA_DIR = Path("var")
MIN_SECRET_CHARS = 32
MIN_DISTINCT_CHARS = 8  # a random key of 32 characters has about 25 different ones
MAKE_A_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
# Words that example files, tutorials and tired operators put where a key should be. A key
# made only of these (in any case, with any punctuation between them) is a placeholder,
# however long: `your-secret-key-goes-here-change-me` is no key.
# fmt: off
PLACEHOLDER_WORDS = (
    "changeme", "change", "me", "your", "my", "the", "a", "secret", "secrets", "key", "keys",
    "password", "passwd", "pass", "test", "testing", "example", "sample", "demo", "dummy",
    "default", "placeholder", "insert", "replace", "here", "goes", "put", "please", "todo",
    "fixme", "token", "value", "string", "random", "long", "strong", "dev", "development",
    "prod", "production", "pressgate", "app", "django", "flask", "fastapi", "admin", "letmein",
    "qwerty", "abc", "123", "1234", "12345", "123456", "0123456789",
)
# fmt: on
NO_X_APP = (
    "no X app credentials: set PRESSGATE_X_CONSUMER_KEY and PRESSGATE_X_CONSUMER_SECRET "
    "(or PRESSGATE_X_CLIENT_ID) to publish to X, or PRESSGATE_SANDBOX=1 to publish to the "
    "sandbox on purpose"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRESSGATE_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'pressgate.db'}"
    # How long a SQLite writer waits for another one's lock before giving up.
    sqlite_busy_timeout: float = Field(30.0, gt=0)
    config: Path = Path("pressgate.toml")
    secret_key: SecretStr = SecretStr("")
    # Keys used before the current one (a JSON list), kept after `pressgate secrets rotate`:
    # the rotation opens the stored X tokens with them, and while the audit key is derived
    # from the secret key they keep verifying the entries sealed before the rotation.
    previous_secret_keys: list[SecretStr] = Field(default_factory=list)
    # The audit chain's key; unset, it is derived from secret_key. Its own key lets the
    # secret key be rotated without touching the audit log, and the other way round.
    audit_key: SecretStr | None = None
    # `pressgate audit anchor` and the scheduler in `pressgate run` append the audit head here.
    audit_anchor_file: Path = DEFAULT_DATA_DIR / "audit-anchors.jsonl"
    audit_anchor_interval: float = Field(3600.0, gt=0, description="Seconds between anchors.")
    slack_signing_secret: SecretStr | None = None
    # The Slack workspace (team id, T…) pressgate serves: requests from any other workspace
    # the app is installed in are refused. Unset: any workspace the signing secret signs for.
    slack_team_id: str | None = Field(None, pattern=r"^T[A-Z0-9]{2,}$")
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Socket Mode (an app-level token, xapp-…): Slack's requests come over a connection
    # pressgate opens, for networks that accept nothing from outside. Unset: HTTP only.
    slack_app_token: SecretStr | None = None
    slack_timeout: float = Field(5.0, gt=0, description="Seconds one call to Slack may take.")
    # How often a worker sends the outbox's due notices (requests, updates, notices) to Slack.
    notice_interval: float = Field(5.0, gt=0, description="Seconds between outbox passes.")
    # How long a signed review link (/a/{token}) in an approver's DM keeps working.
    review_link_hours: int = Field(48, ge=1, le=30 * 24)
    x_api_url: str = "https://api.twitter.com"
    x_consumer_key: SecretStr | None = None
    x_consumer_secret: SecretStr | None = None
    x_client_id: SecretStr | None = None
    x_client_secret: SecretStr | None = None
    x_timeout: float = Field(10.0, gt=0, description="Seconds one call to X may take.")
    # Publish to the sandbox (recorded, never sent to X) on purpose; never a silent fallback.
    sandbox: bool = False
    # The dispatcher: how many calls to X a worker has in flight at once (it works on twice
    # as many accounts), how often it looks for work even when nothing is scheduled, and how
    # it retries.
    dispatch_concurrency: int = Field(4, ge=1, le=64)
    dispatch_interval: float = Field(15.0, gt=0)
    dispatch_lease: float = Field(300.0, gt=0)
    dispatch_settle_after: float = Field(30.0, ge=0)
    retry_base: float = Field(5.0, gt=0)
    retry_max: float = Field(900.0, gt=0)
    max_attempts: int = Field(8, ge=1)
    remind_interval: float = Field(60.0, gt=0, description="Seconds between reminder runs.")
    # On SIGTERM a worker finishes the post in hand for up to this long, then lets its claims
    # go and exits (bot/shutdown.py); below Kubernetes' default 30 s termination grace.
    shutdown_grace: float = Field(25.0, gt=0)
    # Analytics: the collector's round, and the weekly digest to the strategy lead (UTC).
    collect_interval: float = Field(3600.0, gt=0, description="Seconds between collector rounds.")
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_hour: int = Field(8, ge=0, le=23)
    # The largest request body the web app reads (JSON); larger ones get 413 unread.
    max_request_bytes: int = Field(1_048_576, ge=1024)
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    # Web sign-in. OIDC (Entra ID, Google, Keycloak, Sign in with Slack): the issuer's base
    # URL, whose /.well-known/openid-configuration is read at the first sign-in.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    # Behind an SSO proxy: the header that carries the signed-in e-mail, believed only on
    # requests that come from these addresses (IPs or networks, e.g. 10.0.0.0/8).
    proxy_auth_header: str | None = None
    trusted_proxies: list[str] = Field(default_factory=list)
    # Minutes without a request after which a web session ends.
    session_idle_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    log_level: str = "INFO"
    # json: one JSON object a line (production); console: readable; auto: json unless the
    # output is a terminal.
    log_format: Literal["auto", "json", "console"] = "auto"
    # /metrics answers `Authorization: Bearer <token>` when set, else loopback clients only.
    metrics_token: SecretStr | None = None
    templates_dir: Path = shipped("templates/posts")
    # Not a setting: only `pressgate demo` turns it on (see `for_demo`), so PRESSGATE_DEMO in
    # the environment cannot switch off the checks that protect a real installation.
    _demo: bool = PrivateAttr(default=False)

    @property
    def demo(self) -> bool:
        return self._demo

    def for_demo(self, **changes: Any) -> "Settings":
        """These settings with `changes`, running as `pressgate demo`."""
        demo = self.model_copy(update=changes)
        demo._demo = True
        return demo

    @property
    def secret_problem(self) -> str | None:
        """Why PRESSGATE_SECRET_KEY cannot protect anything, or None if it can."""
        key = self.secret_key.get_secret_value()
        letters = re.sub(r"[\W_]", "", key.lower())
        if not key.strip():
            return "is not set"
        if not letters or _only_placeholder_words(letters):
            return "is a placeholder"
        if len(set(key)) == 1:
            return "is one character repeated"
        if len(set(key)) < MIN_DISTINCT_CHARS:
            return f"repeats a few characters ({len(set(key))} different ones)"
        if len(key) < MIN_SECRET_CHARS:
            return f"is too short ({len(key)} characters; at least {MIN_SECRET_CHARS})"
        return None

    @field_validator("audit_key")
    @classmethod
    def _audit_key_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("needs at least 32 characters (or leave it unset)")
        return value

    def audit_keyring(self) -> AuditKeyring | None:
        """The key that seals the audit chain: PRESSGATE_AUDIT_KEY, else from the secret key.

        None when neither is usable (outside the demo): a chain sealed with a key anyone can
        guess could be recomputed by anyone holding the database. Reading still works; every
        change is refused with a line saying which variable to set.
        """
        if self.audit_key is not None:
            return AuditKeyring.derive(self.audit_key.get_secret_value())
        if self.secret_is_placeholder and not self.demo:
            return None
        older = [k.get_secret_value() for k in self.previous_secret_keys]
        return AuditKeyring.derive(self.secret_key.get_secret_value(), older=older)

    @property
    def secret_is_placeholder(self) -> bool:
        """The key is unset, short or a placeholder: nothing may be signed or encrypted."""
        return self.secret_problem is not None

    def require_real_secret(self) -> None:
        """A weak key would let anyone forge approval links; only demo may run with one."""
        problem = self.secret_problem
        if problem is not None and not self.demo:
            raise InvalidInput(
                f"PRESSGATE_SECRET_KEY {problem}: set a random value of at least "
                f"{MIN_SECRET_CHARS} characters (make one with: {MAKE_A_SECRET})"
            )

    @property
    def x_app_configured(self) -> bool:
        """X app credentials are set, so posts can go to X."""
        return bool((self.x_consumer_key and self.x_consumer_secret) or self.x_client_id)

    @property
    def publisher(self) -> Literal["sandbox", "x", "none"]:
        """Where approved posts go: the sandbox only when asked for (or in the demo)."""
        if self.sandbox or self.demo:
            return "sandbox"
        return "x" if self.x_app_configured else "none"

    def require_publisher(self) -> None:
        """Publishing needs X app credentials, or the sandbox asked for by name."""
        if self.publisher == "none":
            raise Refused(NO_X_APP)


def _only_placeholder_words(letters: str) -> bool:
    """`letters` splits into placeholder words (a word-break check, linear in the length)."""
    ends = {0}
    for end in range(1, len(letters) + 1):
        if any(end - len(w) in ends and letters.endswith(w, 0, end) for w in PLACEHOLDER_WORDS):
            ends.add(end)
    return len(letters) in ends
