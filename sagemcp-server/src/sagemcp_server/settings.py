"""Server settings, read from `SAGEMCP_*` environment variables (and CLI flags that override them).

With nothing set, the server keeps everything in `./sagemcp.db` (SQLite) with a generated
key file `secret.key` beside it, listens on 127.0.0.1:8000 and builds OAuth redirect URIs
from that address. In production set at least `SAGEMCP_DATABASE_URL`,
`SAGEMCP_SECRET_KEYS`, `SAGEMCP_ADMIN_KEY` and `SAGEMCP_PUBLIC_URL`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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
    mcp_tools_page_size: int = Field(default=200, ge=1, le=10_000)
    """Tools per `tools/list` page; larger catalogues are paginated with `nextCursor`."""
    max_connectors_per_tenant: int | None = Field(default=50, ge=1)
    """Connectors one tenant may have; creating one more through the admin API gets 409 (None: no limit)."""
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

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("SAGEMCP_PUBLIC_URL must start with http:// or https://")
        return value

    @field_validator("upstream_proxy")
    @classmethod
    def _upstream_proxy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            return SecretStr(validate_proxy_url(value.get_secret_value()))
        except ValueError as exc:
            raise ValueError(f"SAGEMCP_UPSTREAM_PROXY: {exc}") from None

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
