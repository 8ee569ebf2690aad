"""The embedding API: what an application needs to run sagemcp inside its own service.

Tenant stores (`TenantStore`, `MemoryStore`, `ChangeTracking`) and their models, secrets
at rest (`SecretBox`), the credential lifecycle (`CredentialManager`, `OAuthFlows`), the
connector registry, the shared `UpstreamClient`, and the protocol-independent tool runner.
The ASGI app itself is built by `sagemcp.mcp.create_mcp_app`. Connector authors need none
of this: they use `sagemcp`.
"""

from ._context import NullChannel
from ._credentials import CredentialManager
from ._execution import CredentialSource, ResolvedConnector, ToolRunner, bind_upstream, credential_binding
from ._keys import DISPLAY_PREFIX_LENGTH, api_key_matches, generate_api_key, hash_api_key
from ._limiter import (
    CALL_LIMITS,
    WINDOW,
    Admission,
    CallGuard,
    LimiterBackend,
    LimiterUnavailable,
    MemoryLimiter,
    Permit,
    Refusal,
)
from ._memory import MemoryStore
from ._models import (
    MAX_PINNED_TOOLS,
    SECRET_NAME_PATTERN,
    SLUG_PATTERN,
    ApiKeyRecord,
    AuditEvent,
    CallLimits,
    ConnectorConfig,
    OAuthApp,
    Principal,
    Tenant,
    ToolPolicy,
    base_provider,
    linked_provider,
    new_id,
    utcnow,
)
from ._oauth import Authorization, OAuthFlows, PendingAuthorization
from ._prompts import PromptArgument, PromptSpec
from ._proxies import PROXY_SCHEMES, validate_proxy_url
from ._registry import ENTRY_POINT_GROUP, ConnectorRegistry, LoadFailure
from ._resources import ResourceSpec
from ._results import Outcome, ToolOutcome, to_json
from ._secrets import SecretBox
from ._store import ChangeTracking, TenantStore
from ._toolsearch import ToolDoc, ToolIndex, tool_doc
from ._upstream import IDEMPOTENT_METHODS, RETRY_STATUSES, ErrorHook, ResponseObserver, UpstreamClient
from ._urls import ALLOW_LOOPBACK_ENV

__all__ = [
    "ALLOW_LOOPBACK_ENV",
    "CALL_LIMITS",
    "DISPLAY_PREFIX_LENGTH",
    "ENTRY_POINT_GROUP",
    "IDEMPOTENT_METHODS",
    "MAX_PINNED_TOOLS",
    "PROXY_SCHEMES",
    "RETRY_STATUSES",
    "SECRET_NAME_PATTERN",
    "SLUG_PATTERN",
    "WINDOW",
    "Admission",
    "ApiKeyRecord",
    "AuditEvent",
    "Authorization",
    "CallGuard",
    "CallLimits",
    "ChangeTracking",
    "ConnectorConfig",
    "ConnectorRegistry",
    "CredentialManager",
    "CredentialSource",
    "ErrorHook",
    "LimiterBackend",
    "LimiterUnavailable",
    "LoadFailure",
    "MemoryLimiter",
    "MemoryStore",
    "NullChannel",
    "OAuthApp",
    "OAuthFlows",
    "Outcome",
    "PendingAuthorization",
    "Permit",
    "Principal",
    "PromptArgument",
    "PromptSpec",
    "Refusal",
    "ResolvedConnector",
    "ResourceSpec",
    "ResponseObserver",
    "SecretBox",
    "Tenant",
    "TenantStore",
    "ToolDoc",
    "ToolIndex",
    "ToolOutcome",
    "ToolPolicy",
    "ToolRunner",
    "UpstreamClient",
    "api_key_matches",
    "base_provider",
    "bind_upstream",
    "credential_binding",
    "generate_api_key",
    "hash_api_key",
    "linked_provider",
    "new_id",
    "to_json",
    "tool_doc",
    "utcnow",
    "validate_proxy_url",
]
