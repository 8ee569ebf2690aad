"""sagemcp: multi-tenant Model Context Protocol for SaaS connectors.

The core library: the `Connector` base class and the `tool` decorator, the
`TenantStore` protocol and `MemoryStore`, the credential lifecycle
(`SecretBox`, `CredentialManager`, `OAuthFlows`), the shared `UpstreamClient`,
and the `ConnectorRegistry`. The MCP adapter lives in `sagemcp.mcp` (the only
module importing the MCP SDK); helpers for connector authors in `sagemcp.testing`.
"""

from .auth import ApiKey, AuthScheme, BasicAuth, BearerToken, LinkedToken, NoAuth, OAuth2
from .connector import CORE_API, Completion, Connector, ConnectorInfo, ConnectorSettings
from .content import Audio, EmbeddedResource, Image, PromptMessage, ResourceContent, Text, ToolResult
from .context import ToolContext
from .credentials import CredentialManager
from .errors import SageMCPError
from .memory import MemoryStore
from .models import ApiKeyRecord, AuditEvent, ConnectorConfig, Credential, OAuthApp, Principal, Tenant, ToolPolicy
from .oauth import Authorization, OAuthFlows, PendingAuthorization
from .pagination import Page, clamp_limit, decode_cursor, encode_cursor
from .prompts import prompt
from .registry import ENTRY_POINT_GROUP, ConnectorRegistry
from .resources import resource
from .secrets import SecretBox
from .store import TenantStore
from .tools import ToolAnnotations, ToolSpec, tool
from .upstream import BoundClient, UpstreamClient, UpstreamResponse

__version__ = "0.1.0"

__all__ = [
    "CORE_API",
    "ENTRY_POINT_GROUP",
    "ApiKey",
    "ApiKeyRecord",
    "Audio",
    "AuditEvent",
    "AuthScheme",
    "Authorization",
    "BasicAuth",
    "BearerToken",
    "BoundClient",
    "Completion",
    "Connector",
    "ConnectorConfig",
    "ConnectorInfo",
    "ConnectorRegistry",
    "ConnectorSettings",
    "Credential",
    "CredentialManager",
    "EmbeddedResource",
    "Image",
    "LinkedToken",
    "MemoryStore",
    "NoAuth",
    "OAuth2",
    "OAuthApp",
    "OAuthFlows",
    "Page",
    "PendingAuthorization",
    "Principal",
    "PromptMessage",
    "ResourceContent",
    "SageMCPError",
    "SecretBox",
    "Tenant",
    "TenantStore",
    "Text",
    "ToolAnnotations",
    "ToolContext",
    "ToolPolicy",
    "ToolResult",
    "ToolSpec",
    "UpstreamClient",
    "UpstreamResponse",
    "__version__",
    "clamp_limit",
    "decode_cursor",
    "encode_cursor",
    "prompt",
    "resource",
    "tool",
]
