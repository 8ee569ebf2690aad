"""`ToolContext`: everything one tool call may use, built fresh for each call.

Connector instances are shared between tenants; all per-call state (tenant,
configuration, credential, the bound HTTP client, the channel back to the MCP
client) lives here.

`ToolContext` is generic over the connector's `Config` model, so a tool can say
which configuration it reads and have it type-checked:

    async def list_issues(self, ctx: ToolContext[GitHubConfig], ...) -> IssueList:
        base = ctx.config.api_url

A plain `ToolContext` means `ToolContext[BaseModel]`, and a `ToolContext[GitHubConfig]`
can be passed wherever a plain one is expected (the parameter is covariant). The
annotation is never evaluated when the tool's schema is built, so the config class
may be imported under `TYPE_CHECKING` (it usually lives in the module that imports
the tools).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol

from pydantic import BaseModel
from typing_extensions import TypeVar

from ._content import ElicitResult, SamplingResult
from ._input import (
    CONFIRM_SCHEMA,
    ClientCapability,
    ElicitInput,
    InputAnswer,
    InputRequest,
    MissingClientCapability,
    capability_of,
)
from ._models import ConnectorConfig, Credential, Principal, Tenant
from ._upstream import BoundClient

__all__ = ["ClientChannel", "ConfigT", "NullChannel", "ToolContext"]

ConfigT = TypeVar("ConfigT", bound=BaseModel, default=BaseModel, covariant=True)
"""The connector's `Config` model, as a tool's `ToolContext[...]` names it."""


class ClientChannel(Protocol):
    """The way back to the MCP client during a call; the adapter supplies it."""

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None: ...

    async def log(self, level: str, data: Any, logger: str | None = None) -> None: ...

    async def sample(self, prompt: str, *, max_tokens: int = 512, system: str | None = None) -> SamplingResult: ...

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitResult: ...

    async def ask(self, requests: Mapping[str, InputRequest]) -> dict[str, InputAnswer]:
        """The client's answers to `requests`, keyed like them (see `sagemcp._input` for the two eras)."""
        ...

    def supports(self, capability: ClientCapability) -> bool:
        """Whether the client declared `capability` (`elicitation`, `sampling`, `roots`) for this call."""
        ...


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

    async def ask(self, requests: Mapping[str, InputRequest]) -> dict[str, InputAnswer]:
        for request in requests.values():
            raise MissingClientCapability(capability_of(request))
        return {}

    def supports(self, capability: ClientCapability) -> bool:
        return False


@dataclass
class ToolContext(Generic[ConfigT]):
    """Per-call state handed to a tool, resource, prompt or completion function.

    `config` is the tenant's configuration of the connector, parsed with the
    connector's `Config` model; `connector` is the stored record it came from
    (name, tool policy, raw configuration).
    """

    tenant: Tenant
    connector: ConnectorConfig
    config: ConfigT
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

    async def confirm(self, message: str, *, key: str = "confirm") -> bool:
        """Ask the person to confirm (elicitation); True only for an accepted form with `confirm` ticked.

        Raises `MissingClientCapability` for a client that cannot be asked: check
        `self.client.supports("elicitation")` first to offer a fallback.
        """
        answer = (await self.client.ask({key: ElicitInput(message, CONFIRM_SCHEMA)}))[key]
        return (
            isinstance(answer, ElicitResult)
            and answer.action == "accept"
            and (answer.content or {}).get("confirm") is True
        )

    async def choose(self, message: str, options: list[str], *, key: str = "choice") -> str | None:
        """Ask the person to pick one of `options`; None when they decline or cancel."""
        schema = {
            "type": "object",
            "properties": {"choice": {"type": "string", "title": "Choice", "enum": list(options)}},
            "required": ["choice"],
        }
        answer = (await self.client.ask({key: ElicitInput(message, schema)}))[key]
        if not isinstance(answer, ElicitResult) or answer.action != "accept":
            return None
        choice = (answer.content or {}).get("choice")
        return choice if isinstance(choice, str) and choice in options else None
