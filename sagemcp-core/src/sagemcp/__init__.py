"""sagemcp: multi-tenant Model Context Protocol for SaaS connectors.

The core library: the `Connector` base class and the `tool` decorator, the
`TenantStore` protocol and `MemoryStore`, the credential lifecycle
(`SecretBox`, `CredentialManager`, `OAuthFlows`), the shared `UpstreamClient`,
and the `ConnectorRegistry`. The MCP adapter lives in `sagemcp.mcp` (the only
module importing the MCP SDK); helpers for connector authors in `sagemcp.testing`.
"""

from importlib.metadata import version as _version

from .auth import (
    ApiKey,
    AuthScheme,
    BasicAuth,
    BearerToken,
    CredentialFields,
    LinkedToken,
    NoAuth,
    OAuth2,
    SelfRefreshingScheme,
    credential_from_fields,
)
from .connector import CORE_API, Completion, Connector, ConnectorInfo, ConnectorSettings
from .content import Audio, EmbeddedResource, Image, PromptMessage, ResourceContent, Text, ToolResult
from .context import ToolContext
from .credentials import CredentialManager
from .errors import SageMCPError
from .execution import ToolRunner
from .grants import ClientCredentials, JwtBearer
from .memory import MemoryStore
from .models import ApiKeyRecord, AuditEvent, ConnectorConfig, Credential, OAuthApp, Principal, Tenant, ToolPolicy
from .oauth import Authorization, OAuthFlows, PendingAuthorization
from .pagination import Cursor, Limit, Page, clamp_limit, decode_cursor, encode_cursor
from .prompts import prompt
from .registry import ENTRY_POINT_GROUP, ConnectorRegistry
from .resources import resource
from .results import ToolOutcome
from .secrets import SecretBox
from .store import TenantStore
from .text import clip
from .tools import ToolAnnotations, ToolSpec, tool
from .upstream import BoundClient, UpstreamClient, UpstreamResponse

__version__: str = _version("sagemcp-core")  # pyproject.toml holds the one version number

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
    "ClientCredentials",
    "Completion",
    "Connector",
    "ConnectorConfig",
    "ConnectorInfo",
    "ConnectorRegistry",
    "ConnectorSettings",
    "Credential",
    "CredentialFields",
    "CredentialManager",
    "Cursor",
    "EmbeddedResource",
    "Image",
    "JwtBearer",
    "Limit",
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
    "SelfRefreshingScheme",
    "Tenant",
    "TenantStore",
    "Text",
    "ToolAnnotations",
    "ToolContext",
    "ToolOutcome",
    "ToolPolicy",
    "ToolResult",
    "ToolRunner",
    "ToolSpec",
    "UpstreamClient",
    "UpstreamResponse",
    "__version__",
    "clamp_limit",
    "clip",
    "credential_from_fields",
    "decode_cursor",
    "encode_cursor",
    "prompt",
    "resource",
    "tool",
]
