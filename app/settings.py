"""The one typed settings object of the platform (environment variables prefixed ``LOGDAWG_``)."""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Validated at start-up: nonsense fails fast with the setting's name in the message.

    With nothing set, the platform runs on the embedded default: an embedded PostgreSQL
    server under ``data_dir``, the PostgreSQL queue and the heuristic diagnoser.
    """

    model_config = SettingsConfigDict(env_prefix="LOGDAWG_", extra="ignore", frozen=True)

    environment: str = "local"
    mode: Literal["single_tenant", "multi_tenant"] = "single_tenant"

    # Database. ``database_url`` is the application role (subject to row-level security);
    # ``migration_database_url`` the owner role that runs migrations. Unset: embedded server.
    database_url: str | None = None
    migration_database_url: str | None = None
    # Or, in Azure: a host, database and user, signing in with an Entra ID token (the app's
    # managed identity) instead of a password. The same identity migrates.
    database_host: str | None = None
    database_port: int = Field(default=5432, ge=1, le=65535)
    database_name: str = "logdawg"
    database_user: str | None = None
    database_auth: Literal["password", "entra"] = "password"
    database_app_role: str = Field(default="logdawg_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    data_dir: Path = Path(".logdawg")
    migrate_on_start: bool = True

    # Secrets: the key-encryption key for provider tokens. Unset: a file under ``data_dir``.
    secret_backend: Literal["file", "keyvault"] = "file"  # noqa: S105 - a backend name
    key_file: Path | None = None
    # With secret_backend=keyvault: the vault and the RSA key that wraps data keys.
    keyvault_uri: str | None = None
    keyvault_key_name: str = "credentials-kek"

    # API
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=MIB, ge=1024, le=64 * MIB)
    # API processes `logdawg up` starts (uvicorn --workers); one per core is a good start.
    api_workers: int = Field(default=1, ge=1, le=64)
    # Connections each process keeps to PostgreSQL (and how many more it may open at a peak).
    # An ingest holds a connection for one statement, so 20 serve many concurrent clients
    # (a worker keeps at least LOGDAWG_WORKER_CONCURRENCY + 4). Overflow connections are
    # opened and closed under load, which costs more than waiting for a pooled one.
    database_pool_size: int = Field(default=20, ge=1, le=200)
    database_max_overflow: int = Field(default=0, ge=0, le=200)
    # /docs, /redoc and /openapi.json; turn off where the API should not describe itself.
    docs_enabled: bool = True
    # Log lines: JSON objects (with the request id) or plain text for a terminal.
    log_format: Literal["json", "text"] = "json"
    local_org_slug: str = Field(default="local", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    # Origins allowed to call the API from a browser (the SPA's, when it is served from
    # another origin), comma-separated or a JSON list. None by default: the SPA served by the
    # API itself, or behind Static Web Apps' /api route, is same-origin.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The built SPA the API serves at /; unset: frontend/dist beside the code, when built.
    spa_dir: Path | None = None
    # How often each worker deletes reports past their organisation's retention; 0: never.
    retention_sweep_interval_s: float = Field(default=3600.0, ge=0, le=7 * 24 * 3600)

    # Sign-in (see the README's "Sign-in and organisations"). ``none``: single-tenant, every
    # request acts as the owner of the local organisation. ``entra``: Entra ID access tokens.
    # ``dev``: the local development issuer, for multi-tenant mode on one machine only.
    auth_provider: Literal["none", "entra", "dev"] = "none"
    # A tenant id (GUID), or ``organizations`` for any work or school account.
    auth_tenant_id: str | None = None
    # The API's app registration (application id): the ``aud`` its access tokens carry.
    auth_client_id: str | None = None
    # With ``organizations``: only these tenants (comma-separated GUIDs); unset: any tenant.
    auth_allowed_tenants: str | None = None
    auth_authority: str = "https://login.microsoftonline.com"
    # The delegated scope the API exposes; a token without it is refused.
    auth_scope: str = Field(default="access_as_user", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    # The API's app role a service principal needs to send alerts (secure webhooks).
    auth_ingest_role: str = Field(default="Logdawg.Ingest", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    # The SPA's app registration, handed to the browser by GET /api/v1/auth/config.
    auth_spa_client_id: str | None = None
    auth_leeway_s: float = Field(default=60.0, ge=0, le=300)
    # The key of the keyed hash API keys are stored as. Unset: a file beside the KEK.
    api_key_secret: SecretStr | None = None
    # Ingest limits (token buckets, per API process): sustained requests/s and burst.
    ingest_rate_per_key: float = Field(default=50.0, gt=0)
    ingest_burst_per_key: int = Field(default=200, ge=1)
    ingest_rate_per_org: float = Field(default=200.0, gt=0)
    ingest_burst_per_org: int = Field(default=1000, ge=1)
    invitation_ttl_h: float = Field(default=7 * 24.0, gt=0, le=90 * 24)

    # Queue
    queue_backend: Literal["postgres", "servicebus"] = "postgres"
    job_visibility_timeout_s: float = Field(default=300.0, gt=0, le=12 * 3600)
    job_max_attempts: int = Field(default=5, ge=1, le=100)
    job_retry_delay_s: float = Field(default=5.0, ge=0, le=3600)
    # A fallback: an idle PostgreSQL-queue worker is woken at once by LISTEN/NOTIFY.
    worker_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    # Jobs one worker process runs at once (a diagnosis mostly waits on the provider and the
    # model); also the Service Bus prefetch.
    worker_concurrency: int = Field(default=16, ge=1, le=256)
    # On SIGTERM: stop claiming and let in-flight jobs finish for at most this long (and never
    # past their lease); the rest return to the queue when their lease runs out.
    worker_drain_s: float = Field(default=30.0, ge=0, le=3600)
    # With queue_backend=servicebus: the namespace (signed in with Entra ID) and the queue.
    servicebus_namespace: str | None = None
    servicebus_queue: str = "diagnosis-jobs"
    # App Service pings a worker over HTTP; unset, the worker opens no port.
    worker_health_port: int | None = Field(default=None, ge=1, le=65535)

    # Git providers
    git_timeout_s: float = Field(default=20.0, gt=0, le=300)
    # Wait at most this long for a provider's rate limit to lift; longer: the job is retried
    # later and the report says until when.
    git_max_wait_s: float = Field(default=10.0, ge=0, le=600)
    git_max_retries: int = Field(default=3, ge=0, le=10)
    # Requests in flight per token, across the process.
    git_concurrency: int = Field(default=4, ge=1, le=32)
    git_memory_cache_mb: int = Field(default=64, ge=0, le=4096)

    # The platform's GitHub App (README "Connect GitHub with the app"). The private key is a
    # PEM given inline (a Key Vault reference in Azure) or as a file path; never logged.
    github_app_id: int | None = Field(default=None, ge=1)
    github_app_client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,100}$")
    github_app_private_key: SecretStr | None = None
    github_app_private_key_file: Path | None = None
    github_app_webhook_secret: SecretStr | None = None
    # With the client id: the install's callback proves, with the installing person's GitHub
    # authorisation, that they can see the installation (required in multi-tenant mode).
    github_app_client_secret: SecretStr | None = None
    github_app_slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")
    # Where the app's endpoints live: github.com's, or a GitHub Enterprise Server's.
    github_api_url: str = "https://api.github.com"
    github_web_url: str = "https://github.com"
    # How long an install's state parameter stays valid.
    github_install_state_ttl_s: float = Field(default=900.0, gt=0, le=86_400)
    # Multi-tenant: which Azure DevOps organisations each Log Dawg organisation may read with
    # the platform's own identity, as approved by the operator ("contoso=<org uuid>,..."). An
    # identity added to one customer's Azure DevOps must not read it for another tenant.
    azure_devops_identity_orgs: str | None = None

    # Diagnosis
    # Who explains the evidence: the offline heuristic, or a model (see the README).
    diagnoser: Literal["heuristic", "openai", "azure_openai", "anthropic"] = "heuristic"
    llm_model: str | None = None
    # The API root (OpenAI-compatible, the Azure OpenAI resource endpoint, or Anthropic's).
    llm_base_url: str | None = None
    # OpenAI and Anthropic; for Azure OpenAI optional (unset: an Entra ID token from the
    # managed identity or azure-identity's other sources).
    llm_api_key: SecretStr | None = None
    llm_deployment: str | None = None
    llm_api_version: str = "2024-10-21"
    llm_timeout_s: float = Field(default=60.0, gt=0, le=600)
    llm_max_retries: int = Field(default=3, ge=0, le=10)
    llm_prompt_token_budget: int = Field(default=12_000, ge=1_000, le=200_000)
    llm_price_input_per_mtok: float | None = Field(default=None, ge=0)
    llm_price_output_per_mtok: float | None = Field(default=None, ge=0)
    # A repeat of an error (same fingerprint and repository) within this many seconds of its
    # diagnosis counts an occurrence on that report instead of paying for a new one; 0: off.
    grouping_window_s: float = Field(default=24 * 3600, ge=0, le=90 * 24 * 3600)

    # Notifications and write-back (README "Notifications"). Where people open the SPA: the
    # link in every message and every created issue is ``{public_url}/reports/{id}``.
    public_url: str = "http://127.0.0.1:8000"
    # One delivery attempt's time limit (connect + answer) for Slack, Teams, webhooks, SMTP.
    notify_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # The first retry's delay; doubles per attempt (a Retry-After answer overrides it).
    notify_retry_delay_s: float = Field(default=30.0, ge=0, le=3600)
    notify_max_attempts: int = Field(default=6, ge=1, le=50)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")) or "?" in url or "#" in url:
            raise ValueError(
                f"LOGDAWG_PUBLIC_URL must be the SPA's base URL like https://logdawg.example.com,"
                f" got {url!r}"
            )
        return url.rstrip("/")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [o.strip() for o in text.split(",") if o.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if (
                origin == "*"
                or not origin.startswith(("https://", "http://"))
                or (origin.count("/") != 2)
            ):
                raise ValueError(
                    f"LOGDAWG_CORS_ORIGINS: {origin!r} is not an origin like "
                    "https://app.example.com (scheme and host, no path, no wildcard)"
                )
        return [o.rstrip("/") for o in origins]

    @model_validator(mode="after")
    def _check_combinations(self) -> Self:
        if self.migration_database_url and not self.database_url:
            raise ValueError(
                "LOGDAWG_MIGRATION_DATABASE_URL is set but LOGDAWG_DATABASE_URL is not: "
                "set both, or neither to use the embedded server"
            )
        for name in ("database_url", "migration_database_url"):
            url = getattr(self, name)
            if url and not url.startswith(("postgresql://", "postgresql+psycopg://")):
                raise ValueError(
                    f"LOGDAWG_{name.upper()} must be a postgresql:// URL, got {url.split(':')[0]}:"
                )
        if self.database_host and self.database_url:
            raise ValueError("set LOGDAWG_DATABASE_URL or LOGDAWG_DATABASE_HOST, not both")
        if self.database_auth == "entra" and not (self.database_host and self.database_user):
            raise ValueError(
                "LOGDAWG_DATABASE_AUTH=entra needs LOGDAWG_DATABASE_HOST and LOGDAWG_DATABASE_USER"
            )
        if self.secret_backend == "keyvault" and not self.keyvault_uri:  # noqa: S105
            raise ValueError("LOGDAWG_SECRET_BACKEND=keyvault needs LOGDAWG_KEYVAULT_URI")
        if self.diagnoser in ("openai", "anthropic") and self.llm_api_key is None:
            raise ValueError(f"LOGDAWG_DIAGNOSER={self.diagnoser} needs LOGDAWG_LLM_API_KEY")
        if self.diagnoser == "azure_openai" and not (self.llm_base_url and self.llm_deployment):
            raise ValueError(
                "LOGDAWG_DIAGNOSER=azure_openai needs LOGDAWG_LLM_BASE_URL (the resource's "
                "endpoint) and LOGDAWG_LLM_DEPLOYMENT"
            )
        self._check_auth()
        self._check_github_app()
        if self.queue_backend == "servicebus" and not self.servicebus_namespace:
            raise ValueError(
                "LOGDAWG_QUEUE_BACKEND=servicebus needs LOGDAWG_SERVICEBUS_NAMESPACE "
                "(NAME.servicebus.windows.net)"
            )
        return self

    def _check_auth(self) -> None:
        if self.mode == "single_tenant" and self.auth_provider != "none":
            raise ValueError(
                f"LOGDAWG_AUTH_PROVIDER={self.auth_provider} needs LOGDAWG_MODE=multi_tenant "
                "(single-tenant mode has no sign-in: every request acts for the local "
                "organisation)"
            )
        if self.auth_provider == "dev" and self.environment != "local":
            raise ValueError(
                "LOGDAWG_AUTH_PROVIDER=dev (the local development issuer) is refused outside "
                f"LOGDAWG_ENVIRONMENT=local (it is {self.environment!r})"
            )
        if self.auth_provider == "entra":
            tenant = self.auth_tenant_id
            if tenant is None or not (tenant == "organizations" or _is_guid(tenant)):
                raise ValueError(
                    "LOGDAWG_AUTH_TENANT_ID must be a tenant id (a GUID) or 'organizations', "
                    f"got {tenant!r}"
                )
            if self.auth_client_id is None or not _is_guid(self.auth_client_id):
                raise ValueError(
                    "LOGDAWG_AUTH_CLIENT_ID must be the API app registration's application id "
                    f"(a GUID), got {self.auth_client_id!r}"
                )
            if not self.auth_authority.startswith(("https://", "http://127.0.0.1")):
                raise ValueError("LOGDAWG_AUTH_AUTHORITY must be an https:// URL")
        for tenant in self.allowed_tenants:
            if not _is_guid(tenant):
                raise ValueError(
                    f"LOGDAWG_AUTH_ALLOWED_TENANTS must list tenant ids (GUIDs), got {tenant!r}"
                )
        if self.api_key_secret is not None and len(self.api_key_secret.get_secret_value()) < 32:
            raise ValueError("LOGDAWG_API_KEY_SECRET must be at least 32 characters")

    def _check_github_app(self) -> None:
        given = {
            "LOGDAWG_GITHUB_APP_ID": self.github_app_id is not None,
            "LOGDAWG_GITHUB_APP_PRIVATE_KEY (or _FILE)": self.github_app_private_key is not None
            or self.github_app_private_key_file is not None,
            "LOGDAWG_GITHUB_APP_WEBHOOK_SECRET": self.github_app_webhook_secret is not None,
            "LOGDAWG_GITHUB_APP_SLUG": self.github_app_slug is not None,
        }
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, ok in given.items() if not ok)
            raise ValueError(f"the GitHub App is partly configured: set {missing} as well")
        verifies = self.github_app_client_id is not None and self.github_app_client_secret
        if self.github_app_id is not None and self.mode == "multi_tenant" and not verifies:
            raise ValueError(
                "LOGDAWG_GITHUB_APP_CLIENT_ID and LOGDAWG_GITHUB_APP_CLIENT_SECRET are required "
                "in multi-tenant mode: the install's callback checks that the person can see "
                "the installation they connect"
            )
        if self.github_app_private_key is not None and self.github_app_private_key_file:
            raise ValueError(
                "set LOGDAWG_GITHUB_APP_PRIVATE_KEY or LOGDAWG_GITHUB_APP_PRIVATE_KEY_FILE, "
                "not both"
            )
        key = self.github_app_private_key
        if key is not None and "PRIVATE KEY-----" not in key.get_secret_value():
            raise ValueError(
                "LOGDAWG_GITHUB_APP_PRIVATE_KEY must be the app's PEM private key "
                "(-----BEGIN RSA PRIVATE KEY----- ...)"
            )
        secret = self.github_app_webhook_secret
        if secret is not None and len(secret.get_secret_value()) < 16:
            raise ValueError("LOGDAWG_GITHUB_APP_WEBHOOK_SECRET must be at least 16 characters")
        try:
            self.azure_devops_identity_grants  # noqa: B018 - parsed to be checked
        except ValueError:
            raise ValueError(
                "LOGDAWG_AZURE_DEVOPS_IDENTITY_ORGS must list AZURE_DEVOPS_ORG=ORGANISATION_ID "
                "pairs separated by commas (the organisation's id is a UUID)"
            ) from None
        for name in ("github_api_url", "github_web_url"):
            url = getattr(self, name)
            if not url.startswith(("https://", "http://127.0.0.1")):
                raise ValueError(f"LOGDAWG_{name.upper()} must be an https:// URL, got {url!r}")

    @property
    def azure_devops_identity_grants(self) -> frozenset[tuple[str, uuid.UUID]]:
        grants = set()
        for pair in (self.azure_devops_identity_orgs or "").split(","):
            if not pair.strip():
                continue
            ado_org, _, org = pair.partition("=")
            grants.add((ado_org.strip().lower(), uuid.UUID(org.strip())))
        return frozenset(grants)

    @property
    def github_app_configured(self) -> bool:
        return self.github_app_id is not None

    def github_app_key_pem(self) -> str:
        """The app's private key; read from its file when given as one."""
        if self.github_app_private_key is not None:
            return self.github_app_private_key.get_secret_value()
        if self.github_app_private_key_file is None:
            raise ValueError("the GitHub App is not configured (LOGDAWG_GITHUB_APP_ID)")
        try:
            pem = self.github_app_private_key_file.read_text()
        except OSError as exc:
            raise ValueError(
                f"LOGDAWG_GITHUB_APP_PRIVATE_KEY_FILE cannot be read ({type(exc).__name__})"
            ) from None
        if "PRIVATE KEY-----" not in pem:
            raise ValueError("LOGDAWG_GITHUB_APP_PRIVATE_KEY_FILE holds no PEM private key")
        return pem

    def check_api(self) -> None:
        """What the API (not the worker, which signs no one in) also needs; called when it
        starts, so a missing setting stops it with the setting's name."""
        if self.mode == "multi_tenant" and self.auth_provider == "none":
            raise ValueError(
                "LOGDAWG_MODE=multi_tenant needs LOGDAWG_AUTH_PROVIDER=entra (people sign in "
                "with Entra ID) or dev (the local development issuer, on one machine)"
            )
        if (
            self.mode == "multi_tenant"
            and self.secret_backend == "keyvault"  # noqa: S105 - a backend name
            and self.api_key_secret is None
        ):
            raise ValueError(
                "LOGDAWG_SECRET_BACKEND=keyvault needs LOGDAWG_API_KEY_SECRET (a Key Vault "
                "reference to the secret API keys are hashed with)"
            )

    @property
    def allowed_tenants(self) -> tuple[str, ...]:
        raw = self.auth_allowed_tenants or ""
        return tuple(t.strip().lower() for t in raw.split(",") if t.strip())

    @property
    def api_key_secret_path(self) -> Path:
        return self.key_path.parent / "api-key-hmac"

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None and self.database_host is None

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / "keys" / "kek"


def _is_guid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
