"""`ToolContext`: everything one tool call may use, built fresh for each call.

Connector instances are shared between tenants; all per-call state (tenant,
configuration, credential, the bound HTTP client, the channel back to the MCP
client) lives here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from .content import ElicitResult, SamplingResult
from .models import ConnectorConfig, Credential, Principal, Tenant
from .upstream import BoundClient

__all__ = ["ClientChannel", "NullChannel", "ToolContext"]


class ClientChannel(Protocol):
    """The way back to the MCP client during a call; the adapter supplies it."""

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None: ...

    async def log(self, level: str, data: Any, logger: str | None = None) -> None: ...

    async def sample(self, prompt: str, *, max_tokens: int = 512, system: str | None = None) -> SamplingResult: ...

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitResult: ...


class NullChannel:
    """A channel with nobody on the other end: progress and logs are dropped, requests refused."""

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        return None

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        return None

    async def sample(self, prompt: str, *, max_tokens: int = 512, system: str | None = None) -> SamplingResult:
        raise RuntimeError("this transport cannot send requests to the client")

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitResult:
        raise RuntimeError("this transport cannot send requests to the client")


@dataclass
class ToolContext:
    """Per-call state handed to a tool, resource, prompt or completion function."""

    tenant: Tenant
    connector: ConnectorConfig
    config: BaseModel
    credential: Credential | None
    http: BoundClient
    principal: Principal
    request_id: str
    client: ClientChannel = field(default_factory=NullChannel)
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = field(
        default_factory=lambda: logging.getLogger("sagemcp.tool")
    )

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Tell the client how far the call has got (delivered when the response can stream)."""
        await self.client.progress(progress, total, message)
