"""The `ClientChannel` a tool sees, backed by the SDK's per-request server session."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, cast

import mcp_types as types
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPDeprecationWarning

from .._content import ElicitResult, SamplingResult
from .._input import (
    ClientCapability,
    ElicitInput,
    InputAnswer,
    InputRequest,
    MissingClientCapability,
    Root,
    RootsResult,
    SampleInput,
    capability_of,
)

_LEVELS = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}


class SessionChannel:
    def __init__(self, session: ServerSession, request_id: types.RequestId | None) -> None:
        self._session = session
        self._request_id = request_id

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        await self._session.report_progress(progress, total, message)

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        if level not in _LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        await self._session.send_log_message(
            cast(types.LoggingLevel, level), data, logger=logger, related_request_id=self._request_id
        )

    async def sample(self, prompt: str, *, max_tokens: int = 512, system: str | None = None) -> SamplingResult:
        message = types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            result = await self._session.create_message(
                [message], max_tokens=max_tokens, system_prompt=system, related_request_id=self._request_id
            )
        content = result.content
        text = content.text if isinstance(content, types.TextContent) else None
        return SamplingResult(role=result.role, text=text, model=result.model, stop_reason=result.stop_reason)

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitResult:
        result = await self._session.elicit_form(message, schema, related_request_id=self._request_id)
        return ElicitResult(action=result.action, content=dict(result.content) if result.content else None)

    def supports(self, capability: ClientCapability) -> bool:
        declared = self._session.client_capabilities
        return declared is not None and getattr(declared, capability, None) is not None

    async def ask(self, requests: Mapping[str, InputRequest]) -> dict[str, InputAnswer]:
        """Send each request to the client in turn (handshake era: the server may send requests)."""
        for request in requests.values():
            if not self.supports(capability_of(request)):
                raise MissingClientCapability(capability_of(request))
        answers: dict[str, InputAnswer] = {}
        for key, request in requests.items():
            if isinstance(request, ElicitInput):
                answers[key] = await self.elicit(request.message, request.schema)
            elif isinstance(request, SampleInput):
                answers[key] = await self.sample(request.prompt, max_tokens=request.max_tokens, system=request.system)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    listed = await self._session.list_roots()
                answers[key] = RootsResult(roots=[Root(uri=str(r.uri), name=r.name) for r in listed.roots])
        return answers
