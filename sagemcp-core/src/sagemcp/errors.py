"""The one exception tree of sagemcp.

Every error the library raises on purpose is a `SageMCPError`. Foreign exceptions
(httpx's, pydantic's, the MCP SDK's) are converted in exactly one place each:
`sagemcp._upstream` for HTTP, `sagemcp._tools` for argument validation and
`sagemcp.mcp` for the protocol.

```
SageMCPError
├── DefinitionError              a connector class is malformed (bad tool name, duplicate, schema)
├── RegistryError                a connector cannot be registered (duplicate id, incompatible core_api)
├── LookupFailed                 something named by the caller does not exist
│   ├── TenantNotFound
│   ├── ConnectorNotFound
│   └── ToolNotFound
├── AccessDenied                 the caller may not do this
│   ├── NotAuthenticated         no or invalid caller credentials
│   ├── WrongTenant              the caller belongs to another tenant or connector
│   ├── ToolDisabled             the tool policy does not enable this tool
│   ├── ReadOnlyViolation        a write tool under read-only mode
│   ├── TenantInactive
│   └── ConnectorDisabled
├── LimitReached                 a quota on what a caller holds open (sessions, streams) is full; `limit` names it
│   └── CallLimitReached         a tool call refused by a rate or concurrency limit; `retry_after` seconds
├── InvalidArguments             tool arguments fail validation (names the fields)
│   └── InvalidCursor            a cursor that this tool did not issue (garbage, another tool's, other arguments)
├── CredentialError              no usable upstream credential
│   ├── NotConnected             the tenant never connected this provider
│   │   └── ConnectionRequired   the calling member has not connected their own account; `connect_url`
│   ├── ReconnectRequired        expired and not refreshable, or the refresh was refused
│   └── RefreshFailed            the refresh failed for now (network, 5xx); the credential is kept, retry later
├── OAuthError                   an OAuth client flow failed
│   ├── OAuthStateError          state missing, unknown, expired, replayed or bound elsewhere
│   └── TokenEndpointError       the provider's token endpoint refused the request
├── StoreError                   a tenant-store operation failed
│   └── ConcurrentUpdate         a compare-and-swap lost the race
├── CryptoError                  a secret could not be decrypted with any key in the ring
├── IssuerUnavailable            an access token cannot be checked now: its issuer's metadata or keys are out of reach
└── UpstreamError                the upstream service answered with an error, or not at all
    ├── UpstreamAuthError        401: the token is invalid or revoked
    ├── UpstreamForbidden        403: not allowed; `missing_scopes` when known
    ├── UpstreamNotFound         404 (or the provider's equivalent)
    ├── UpstreamConflict         409 / 422: the request conflicts with the resource state
    ├── UpstreamBadRequest       other 4xx
    ├── UpstreamRateLimited      429 or a provider's rate-limit signal; `retry_after`
    ├── UpstreamServerError      5xx
    ├── UpstreamTimeout          no answer within the deadline
    ├── UpstreamUnavailable      the connection failed or was reset
    └── UpstreamBadResponse      the answer was malformed, too large or redirected elsewhere
        └── UpstreamUnexpectedShape  valid JSON, but not the object or list the connector expects
```

Each error has a `code` (stable, machine-readable) and a message written for the
person reading it: what went wrong and what to do next. Messages never contain
secrets.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AccessDenied",
    "CallLimitReached",
    "ConcurrentUpdate",
    "ConnectionRequired",
    "ConnectorDisabled",
    "ConnectorNotFound",
    "CredentialError",
    "CryptoError",
    "DefinitionError",
    "InvalidArguments",
    "InvalidCursor",
    "IssuerUnavailable",
    "LimitReached",
    "LookupFailed",
    "NotAuthenticated",
    "NotConnected",
    "OAuthError",
    "OAuthStateError",
    "ReadOnlyViolation",
    "ReconnectRequired",
    "RefreshFailed",
    "RegistryError",
    "SageMCPError",
    "StoreError",
    "TenantInactive",
    "TenantNotFound",
    "TokenEndpointError",
    "ToolDisabled",
    "ToolNotFound",
    "UpstreamAuthError",
    "UpstreamBadRequest",
    "UpstreamBadResponse",
    "UpstreamConflict",
    "UpstreamError",
    "UpstreamForbidden",
    "UpstreamNotFound",
    "UpstreamRateLimited",
    "UpstreamServerError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "UpstreamUnexpectedShape",
    "WrongTenant",
]


class SageMCPError(Exception):
    """Base of every error sagemcp raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DefinitionError(SageMCPError):
    code = "definition_error"


class RegistryError(SageMCPError):
    code = "registry_error"


class LookupFailed(SageMCPError):
    code = "not_found"


class TenantNotFound(LookupFailed):
    code = "tenant_not_found"


class ConnectorNotFound(LookupFailed):
    code = "connector_not_found"


class ToolNotFound(LookupFailed):
    code = "tool_not_found"


class AccessDenied(SageMCPError):
    code = "forbidden"


class NotAuthenticated(AccessDenied):
    code = "not_authenticated"


class WrongTenant(AccessDenied):
    code = "wrong_tenant"


class ToolDisabled(AccessDenied):
    code = "tool_disabled"


class ReadOnlyViolation(AccessDenied):
    code = "read_only"


class TenantInactive(AccessDenied):
    code = "tenant_inactive"


class ConnectorDisabled(AccessDenied):
    code = "connector_disabled"


class LimitReached(SageMCPError):
    """A quota is full: `limit` names it (`streams_per_tenant`, ...), `maximum` is its value.

    The message says what holds the quota and how to free it.
    """

    code = "limit_reached"

    def __init__(self, message: str, limit: str, maximum: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.maximum = maximum


class CallLimitReached(LimitReached):
    """A tool call was refused by a rate or concurrency limit; `retry_after` is the wait in seconds.

    `limit` is one of `sagemcp.CALL_LIMITS`; the call never reached the connector or its upstream.
    """

    code = "call_limit_reached"

    def __init__(self, message: str, limit: str, maximum: int, retry_after: float) -> None:
        super().__init__(message, limit, maximum)
        self.retry_after = retry_after


class InvalidArguments(SageMCPError):
    """Tool arguments failed validation; `errors` lists `(field path, message)` pairs."""

    code = "invalid_arguments"

    def __init__(self, message: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class InvalidCursor(InvalidArguments):
    """A `cursor` argument this tool cannot continue from; start the listing again without one."""

    code = "invalid_cursor"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, [("cursor", reason)])


class CredentialError(SageMCPError):
    code = "credential_error"


class NotConnected(CredentialError):
    code = "not_connected"


class ConnectionRequired(NotConnected):
    """A `per_user` connector was called by a member who has not connected their own account (or must
    connect it again). `connect_url` is the page where they connect it, None when the platform has none."""

    code = "connection_required"

    def __init__(self, message: str, connect_url: str | None = None, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.connect_url = connect_url
        self.provider = provider


class ReconnectRequired(CredentialError):
    code = "reconnect_required"


class RefreshFailed(CredentialError):
    """Refreshing the token failed for a reason that may pass (no answer, 429, 5xx); retry later."""

    code = "refresh_failed"
    retryable = True


class OAuthError(SageMCPError):
    code = "oauth_error"


class OAuthStateError(OAuthError):
    code = "invalid_state"


class TokenEndpointError(OAuthError):
    """The token endpoint refused a grant; `error` is the provider's OAuth error code."""

    code = "token_endpoint_error"

    def __init__(self, message: str, error: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.status = status


class StoreError(SageMCPError):
    code = "store_error"


class ConcurrentUpdate(StoreError):
    code = "concurrent_update"


class CryptoError(SageMCPError):
    code = "crypto_error"


class IssuerUnavailable(SageMCPError):
    """The authorization server that issued an access token cannot be asked for its metadata or signing keys
    (down, too slow, or answering something that is not metadata or a key set). The token is neither valid
    nor invalid yet: callers get 503, not 401."""

    code = "issuer_unavailable"


class UpstreamError(SageMCPError):
    """The upstream service failed the request.

    `status` is the HTTP status (None when there was no answer), `provider` the
    connector id, `retryable` whether the same request may succeed later.
    """

    code = "upstream_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider: str | None = None,
        upstream_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.provider = provider
        self.upstream_code = upstream_code


class UpstreamAuthError(UpstreamError):
    code = "upstream_unauthorized"


class UpstreamForbidden(UpstreamError):
    code = "upstream_forbidden"

    def __init__(self, message: str, *, missing_scopes: Sequence[str] = (), **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.missing_scopes = list(missing_scopes)


class UpstreamNotFound(UpstreamError):
    code = "upstream_not_found"


class UpstreamConflict(UpstreamError):
    code = "upstream_conflict"


class UpstreamBadRequest(UpstreamError):
    code = "upstream_bad_request"


class UpstreamRateLimited(UpstreamError):
    code = "upstream_rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class UpstreamServerError(UpstreamError):
    code = "upstream_server_error"
    retryable = True


class UpstreamTimeout(UpstreamError):
    code = "upstream_timeout"
    retryable = True


class UpstreamUnavailable(UpstreamError):
    code = "upstream_unavailable"
    retryable = True


class UpstreamBadResponse(UpstreamError):
    code = "upstream_bad_response"


class UpstreamUnexpectedShape(UpstreamBadResponse):
    """The body is JSON, but not the shape the connector reads (an object, a list under a key)."""

    code = "upstream_unexpected_shape"
