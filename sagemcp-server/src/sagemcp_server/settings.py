"""Server settings, read from `SAGEMCP_*` environment variables (and CLI flags that override them).

With nothing set, the server keeps everything in `./sagemcp.db` (SQLite) with a generated
key file `secret.key` beside it, listens on 127.0.0.1:8000 and builds OAuth redirect URIs
from that address. In production set at least `SAGEMCP_DATABASE_URL`,
`SAGEMCP_SECRET_KEYS`, `SAGEMCP_ADMIN_KEY` and `SAGEMCP_PUBLIC_URL`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sagemcp.platform import validate_proxy_url

__all__ = ["DEFAULT_DATABASE_FILE", "KEY_FILE_NAME", "Settings"]

DEFAULT_DATABASE_FILE = "sagemcp.db"
KEY_FILE_NAME = "secret.key"


class Settings(BaseSettings):
    """Everything the server can be told. Environment variables are the names in upper case with `SAGEMCP_`."""

    # Values are left out of validation errors: several settings (keys, the proxy URL) are secrets.
    model_config = SettingsConfigDict(
        env_prefix="SAGEMCP_", extra="ignore", validate_default=True, hide_input_in_errors=True
    )

    database_url: str | None = None
    """`postgresql+asyncpg://user@host/db` or `sqlite+aiosqlite:///path.db`; default: SQLite in `data_dir`."""
    database_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """PostgreSQL only: the schema to keep the tables in (sets `search_path`)."""
    data_dir: Path = Path(".")
    """Where the embedded SQLite database and its generated key file live."""
    secret_keys: SecretStr | None = None
    """Comma-separated key ring for secrets at rest; the first key encrypts. Default: the generated key file."""
    admin_key: SecretStr | None = None
    """The platform admin API key. Without it, one is created on first start and printed once."""
    public_url: str | None = None
    """The URL people and providers reach this server at (OAuth redirect URIs); default http://host:port."""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    auto_migrate: bool = True
    """Upgrade the database schema when the server starts."""
    cache_ttl: float = Field(default=5.0, ge=0, le=300)
    """Seconds a process may serve cached tenants, connectors, credentials and API keys."""
    oauth_state_ttl: float = Field(default=600.0, gt=0, le=3600)
    mcp_stateful: bool = False
    """Keep MCP sessions (sampling, elicitation, streamed progress); stateless JSON otherwise."""
    allowed_hosts: list[str] | None = None
    """Host header values accepted on the MCP endpoints (DNS-rebinding protection); None: no check."""
    mcp_session_idle_timeout: float = Field(default=1800.0, gt=0, le=86_400)
    """Seconds a stateful MCP session may go without a request before it ends."""
    mcp_max_sessions: int | None = Field(default=10_000, ge=1)
    """Stateful MCP sessions open per process; beyond it new sessions get 503 (None: no limit)."""
    mcp_max_sessions_per_tenant: int | None = Field(default=1_000, ge=1)
    """Stateful MCP sessions one tenant may hold open per process; beyond it new ones get 429."""
    mcp_max_sessions_per_key: int | None = Field(default=200, ge=1)
    """Stateful MCP sessions one API key may hold open per process; beyond it new ones get 429."""
    mcp_max_streams: int | None = Field(default=5_000, ge=1)
    """Long-lived MCP streams (legacy SSE, `GET /mcp`, WebSocket) open per process; beyond it 429.
    Keep it, with `http_max_connections`, below the file-descriptor limit."""
    mcp_max_streams_per_tenant: int | None = Field(default=200, ge=1)
    """Long-lived MCP streams one tenant may hold open per process; beyond it new ones get 429."""
    mcp_max_streams_per_key: int | None = Field(default=50, ge=1)
    """Long-lived MCP streams one API key may hold open per process; beyond it new ones get 429."""
    mcp_stream_idle_timeout: float | None = Field(default=1800.0, gt=0, le=86_400)
    """Seconds a long-lived MCP stream may carry no message either way before it is closed (None: never)."""
    mcp_max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    """Bytes one MCP request body (a JSON-RPC message) may have, 64 KiB to 64 MiB; larger ones get 413."""
    mcp_tools_page_size: int = Field(default=200, ge=1, le=10_000)
    """Tools per `tools/list` page; larger catalogues are paginated with `nextCursor`."""
    max_connectors_per_tenant: int | None = Field(default=50, ge=1)
    """Connectors one tenant may have; creating one more through the admin API gets 409 (None: no limit)."""
    # -- several replicas (Redis) and tool-call limits --
    redis_url: SecretStr | None = None
    """`redis://host:6379/0` (or `rediss://`, credentials allowed): state the replicas share, such as the
    tool-call limits. Unset: each process keeps that state itself (one replica)."""
    redis_key_prefix: str = Field(default="sagemcp:", pattern=r"^[A-Za-z0-9:_.-]{0,64}$")
    """Prefix of every Redis key this server writes, so several deployments can share one Redis."""
    redis_timeout: float = Field(default=0.5, gt=0, le=30)
    """Seconds to wait for Redis (connect and each command) before treating it as down."""
    calls_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    """Default for every tenant: tool calls per rolling minute (None: no limit); a tenant's own setting wins."""
    concurrent_calls: int | None = Field(default=None, ge=1, le=100_000)
    """Default for every tenant: tool calls running at once, on all replicas together (None: no limit)."""
    credential_calls_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    """Default for every tenant: tool calls per rolling minute with one upstream credential (None: no limit)."""
    call_slot_lease: float = Field(default=120.0, ge=5, le=3600)
    """Seconds a running call's concurrency slot lasts in Redis without renewal (renewed while the call runs):
    the slots of a replica that crashed are free again after at most this long."""
    max_upstream_backoff: float = Field(default=3600.0, ge=1, le=86_400)
    """Longest back-off recorded when an upstream says a credential is rate limited (longer waits are capped)."""
    replica_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+$")
    """With `redis_url` and stateful MCP: the URL other replicas reach this process at to forward requests for
    its sessions (`http://10.1.2.3:8000`; on Kubernetes `http://$(POD_IP):8000`). Default: http:// plus this
    host's address (its name resolved) and `port`."""
    replica_secret: SecretStr | None = None
    """Key that signs requests forwarded between replicas (the same on every replica). Default: derived from
    `secret_keys`; set it when the key ring comes from a file."""
    audit_flush_interval: float = Field(default=0.5, gt=0, le=60)
    audit_buffer_size: int = Field(default=10_000, ge=10)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds to wait for a database connection (or a SQLite write lock) before giving up with a 503."""
    shutdown_timeout: float = Field(default=15.0, ge=0)
    http_header_timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds a connection may take to send complete request headers, after connecting or after its
    previous response (`sagemcp serve` only); then it is closed."""
    http_body_timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds a request may take to send its whole body after its headers; then it gets 408."""
    http_keep_alive_timeout: int = Field(default=5, ge=1, le=300)
    """Seconds an idle keep-alive connection stays open (`sagemcp serve` only)."""
    http_max_connections: int | None = Field(default=1000, ge=1)
    """Connections and requests in progress per process beyond which new requests get 503 (`sagemcp serve`
    only; None: no limit). Keep it below the process's file-descriptor limit (`ulimit -n`)."""
    http_max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    """Largest request line plus headers accepted (`sagemcp serve` only); larger ones get 400."""
    upstream_proxy: SecretStr | None = None
    """Outbound proxy for tool calls and token endpoints alike (`http://proxy.internal:3128`, credentials
    allowed); hosts in `NO_PROXY` are reached directly. Default: the `HTTPS_PROXY` / `HTTP_PROXY` /
    `ALL_PROXY` / `NO_PROXY` environment variables."""
    # -- people and sign-in --
    signin_max_failures: int = Field(default=5, ge=1, le=100)
    """Consecutive wrong passwords after which an account is locked for `signin_lockout_seconds`."""
    signin_lockout_seconds: float = Field(default=900.0, ge=1, le=86_400)
    session_idle_timeout: float = Field(default=8 * 3600.0, ge=60, le=30 * 86_400)
    """Seconds a signed-in browser may stay idle before it must sign in again."""
    session_lifetime: float = Field(default=7 * 86_400.0, ge=60, le=365 * 86_400)
    """Seconds after signing in at which a browser must sign in again, however active."""
    max_users: int | None = Field(default=10_000, ge=1)
    """Users the platform may have; creating one more gets 409 (None: no limit)."""
    max_sessions_per_user: int = Field(default=20, ge=1, le=1000)
    """Browsers one user may be signed in with at once; signing in once more signs the oldest out."""
    max_pending_invitations: int = Field(default=100, ge=1, le=100_000)
    """Pending invitations per tenant; creating one more gets 409."""
    invitation_ttl: float = Field(default=7 * 86_400.0, ge=60, le=90 * 86_400)
    """Seconds an invitation link stays valid unless its creator chooses otherwise (at most this)."""
    max_oidc_providers: int = Field(default=50, ge=1, le=1000)
    """OpenID Connect sign-in providers per tenant, and for the platform."""
    oidc_state_ttl: float = Field(default=600.0, ge=30, le=3600)
    """Seconds a sign-in at an external provider may take."""
    max_pending_oidc_signins: int = Field(default=10_000, ge=1)
    """Sign-ins at external providers in progress at once; beyond it new ones are refused for a while."""
    password_time_cost: int = Field(default=3, ge=1, le=20)
    """argon2id iterations; existing hashes are upgraded at their next sign-in when this changes."""
    password_memory_kib: int = Field(default=65_536, ge=8 * 1024, le=4 * 1024 * 1024)
    """argon2id memory per hash in KiB (64 MiB by default)."""
    password_hash_concurrency: int = Field(default=4, ge=1, le=64)
    """Password hashes computed at once per process (each uses `password_memory_kib`)."""
    # -- MCP authorization (OAuth 2.1) --
    auth_mode: Literal["builtin", "external", "off"] = "builtin"
    """`builtin`: this server issues access tokens for its MCP endpoints (its authorization server needs an
    https:// public URL, http:// only on loopback); `external`: JWTs of `auth_issuer` are accepted instead;
    `off`: API keys only. API keys work in every mode."""
    auth_issuer: str | None = None
    """`external` mode: the issuer URL of the authorization server whose JWT access tokens are accepted."""
    auth_jwks_uri: str | None = None
    """`external` mode: where the issuer's signing keys are; default: from the issuer's metadata."""
    auth_audience: str | None = None
    """`external` mode: a fixed audience the issuer puts in every token, for issuers that cannot issue tokens per
    resource (RFC 8707); then a token is good for every endpoint of the tenants its user belongs to. Default:
    the audience must be the canonical URL of the endpoint requested."""
    auth_algorithms: list[str] = ["RS256", "ES256", "PS256", "EdDSA"]
    """`external` mode: the signature algorithms accepted (public-key ones only)."""
    auth_match_email: bool = True
    """`external` mode: a token whose subject is linked to no user matches the user of its verified `email`."""
    auth_access_token_ttl: float = Field(default=3600.0, ge=10, le=86_400)
    """Seconds an access token of the built-in authorization server is valid."""
    auth_refresh_token_ttl: float = Field(default=30 * 86_400.0, ge=60, le=365 * 86_400)
    """Seconds a refresh token is valid; every refresh issues a new one (the old one may not be used again)."""
    auth_refresh_grace: float = Field(default=10.0, ge=0, le=300)
    """Seconds during which a just-rotated refresh token may be presented again (a client that lost the answer)
    without revoking its grant; its unused successor is withdrawn then."""
    auth_code_ttl: float = Field(default=60.0, ge=5, le=600)
    """Seconds an authorization code is valid (single use)."""
    auth_consent_ttl: float = Field(default=600.0, ge=30, le=3600)
    """Seconds a person has to sign in and consent after an MCP client sent them to the authorization page."""
    auth_max_clients: int = Field(default=10_000, ge=1, le=10_000_000)
    """OAuth clients kept: dynamically registered and pre-registered ones and cached metadata documents."""
    auth_registrations_per_hour: int = Field(default=20, ge=1, le=100_000)
    """Dynamic client registrations one network address may make per hour; beyond it 429."""
    auth_client_metadata_ttl: float = Field(default=3600.0, ge=60, le=7 * 86_400)
    """Seconds a fetched Client ID Metadata Document is used before it is fetched again."""
    auth_client_metadata_max_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    auth_client_metadata_timeout: float = Field(default=5.0, gt=0, le=60)
    auth_purge_interval: float = Field(default=300.0, ge=1, le=86_400)
    """Seconds between deletions of expired authorization codes and tokens."""

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("SAGEMCP_PUBLIC_URL must start with http:// or https://")
        return value

    @field_validator("auth_issuer", "auth_jwks_uri")
    @classmethod
    def _auth_urls(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// URL")
        return value

    @model_validator(mode="after")
    def _external_issuer(self) -> Settings:
        if self.auth_mode == "external" and not self.auth_issuer:
            raise ValueError("SAGEMCP_AUTH_MODE=external needs SAGEMCP_AUTH_ISSUER, the issuer URL of the tokens")
        return self

    @field_validator("upstream_proxy")
    @classmethod
    def _upstream_proxy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            return SecretStr(validate_proxy_url(value.get_secret_value()))
        except ValueError as exc:
            raise ValueError(f"SAGEMCP_UPSTREAM_PROXY: {exc}") from None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().strip().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("SAGEMCP_REDIS_URL must start with redis://, rediss:// or unix://")
        return SecretStr(value.get_secret_value().strip())

    def resolved_upstream_proxy(self) -> str | None:
        """The explicit outbound proxy URL, or None to use the environment's proxy variables."""
        return self.upstream_proxy.get_secret_value() if self.upstream_proxy is not None else None

    @property
    def embedded(self) -> bool:
        """Whether the database is the default SQLite file (so a key file may be generated beside it)."""
        return self.database_url is None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / DEFAULT_DATABASE_FILE).resolve()}"

    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = self.host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a bind address, not a choice to bind everywhere
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def key_file(self) -> Path | None:
        """The generated key file next to a SQLite database, or None for other databases."""
        url = self.resolved_database_url()
        if not url.startswith("sqlite"):
            return None
        _, _, path = url.partition(":///")
        if not path or path.startswith(":memory:"):
            return None
        return Path(path).parent / KEY_FILE_NAME
