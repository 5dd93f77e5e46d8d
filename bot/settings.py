"""The one place that reads the environment. Everything else is handed a `Settings`."""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from approvals.audit_keys import AuditKeyring

DEFAULT_DATA_DIR = Path("var")
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "secret", "change-me"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRESSGATE_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'pressgate.db'}"
    config: Path = Path("pressgate.toml")
    secret_key: SecretStr = SecretStr("changeme")
    # The audit chain's key; unset, it is derived from secret_key. Its own key lets the
    # secret key be rotated without touching the audit log, and the other way round.
    audit_key: SecretStr | None = None
    # `pressgate audit anchor` and the scheduler in `pressgate run` append the audit head here.
    audit_anchor_file: Path = DEFAULT_DATA_DIR / "audit-anchors.jsonl"
    audit_anchor_interval: float = Field(3600.0, gt=0, description="Seconds between anchors.")
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    x_api_url: str = "https://api.twitter.com"
    x_consumer_key: SecretStr | None = None
    x_consumer_secret: SecretStr | None = None
    x_client_id: SecretStr | None = None
    x_client_secret: SecretStr | None = None
    x_timeout: float = Field(10.0, gt=0, description="Seconds one call to X may take.")
    # The dispatcher: how many accounts a worker serves at once, how often it looks for work
    # even when nothing is scheduled, and how it retries.
    dispatch_concurrency: int = Field(4, ge=1, le=64)
    dispatch_interval: float = Field(15.0, gt=0)
    dispatch_lease: float = Field(300.0, gt=0)
    dispatch_settle_after: float = Field(30.0, ge=0)
    retry_base: float = Field(5.0, gt=0)
    retry_max: float = Field(900.0, gt=0)
    max_attempts: int = Field(8, ge=1)
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    demo: bool = False
    log_level: str = "INFO"
    templates_dir: Path = Path(__file__).resolve().parents[1] / "templates" / "posts"

    @field_validator("audit_key")
    @classmethod
    def _audit_key_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("needs at least 32 characters (or leave it unset)")
        return value

    def audit_keyring(self) -> AuditKeyring:
        """The key that seals the audit chain: PRESSGATE_AUDIT_KEY, else from the secret key."""
        material = self.audit_key or self.secret_key
        return AuditKeyring.derive(material.get_secret_value())

    @property
    def secret_is_placeholder(self) -> bool:
        return self.secret_key.get_secret_value().lower() in PLACEHOLDER_SECRETS

    def require_real_secret(self) -> None:
        """A placeholder key would let anyone forge approval links; only demo may run with it."""
        if self.secret_is_placeholder and not self.demo:
            raise ValueError(
                "PRESSGATE_SECRET_KEY is unset or a placeholder; set a long random value "
                '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )

    @property
    def x_app_configured(self) -> bool:
        """X app credentials are set; without them everything goes to the sandbox."""
        return bool((self.x_consumer_key and self.x_consumer_secret) or self.x_client_id)
