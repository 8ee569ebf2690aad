"""`call_tool`: run one connector tool as the platform would, against an `httpx.MockTransport`.

No MCP server, store or network: the call goes through core's `ToolRunner`, the same
pipeline the MCP adapter runs (tool policy, argument validation, credential, upstream
binding, error mapping, result content and size cap), for a test tenant with a fake
credential and an `UpstreamClient` whose transport is the test's handler. Every
request the tool sent is recorded, body read.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._connector import Connector
from .._content import Content
from .._context import ClientChannel, NullChannel
from .._credentials import CredentialManager
from .._execution import ResolvedConnector, ToolRunner
from .._memory import MemoryStore
from .._models import ConnectorConfig, Credential, Principal, Tenant, ToolPolicy
from .._oauth import OAuthFlows
from .._results import Outcome
from .._tools import ToolSpec
from .._upstream import UpstreamClient
from ..errors import SageMCPError, ToolNotFound

__all__ = ["Handler", "ToolCall", "call_tool", "fake_credential"]

Handler = Callable[[httpx.Request], httpx.Response] | Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]
"""Answers one upstream request; a plain function or a coroutine function, as for `httpx.MockTransport`."""

TEST_TENANT = "test"
TEST_TOKEN = "test-token"
TEST_REQUEST_ID = "test-request"


@dataclass
class ToolCall:
    """The outcome of `call_tool`: what the tool returned and what an MCP client would see."""

    value: Any
    """The raw return value (None when the call failed before or inside the tool)."""
    structured: dict[str, Any] | None
    """`structuredContent` of the MCP result."""
    text: str
    """The text content of the MCP result (text blocks joined by newlines): Markdown or compact JSON."""
    is_error: bool
    error: SageMCPError | None = None
    """The error behind an error result (policy, arguments, upstream, credential), if any."""
    requests: list[httpx.Request] = field(default_factory=list)
    """Every request the tool sent upstream, in order, bodies read (`request.content`)."""
    content: list[Content] = field(default_factory=list)
    """The content blocks of the MCP result (`sagemcp.Text`, `sagemcp.Image`, ...)."""
    outcome: Outcome = "ok"
    """What the audit trail records: ok, error, denied, invalid or upstream_error."""
    code: str | None = None
    """The error code the audit trail records (`tool_disabled`, `internal_error`, ...)."""
    exception: Exception | None = None
    """The bug behind an internal error, when `call_tool(..., raise_internal_errors=False)`."""

    @property
    def request(self) -> httpx.Request:
        """The one request the tool sent; fails when it sent none or several."""
        if len(self.requests) != 1:
            sent = ", ".join(f"{r.method} {r.url}" for r in self.requests) or "none"
            raise AssertionError(f"expected exactly one upstream request, got {len(self.requests)}: {sent}")
        return self.requests[0]


async def call_tool(
    connector_cls: type[Connector],
    tool_name: str,
    arguments: dict[str, Any] | None = None,
    *,
    handler: Handler | httpx.MockTransport | None = None,
    credential: Credential | None = None,
    linked: Mapping[str, Credential] | None = None,
    config: dict[str, Any] | None = None,
    policy: ToolPolicy | None = None,
    max_result_chars: int = 100_000,
    connected: bool = True,
    raise_internal_errors: bool = True,
    client: ClientChannel | None = None,
) -> ToolCall:
    """Run `tool_name` (full name, or the action without the connector prefix) with `arguments`.

    `handler` answers upstream requests (a request without one fails the test).
    `credential` defaults to `fake_credential(connector_cls)`; `linked` holds the tenant's
    linked credentials by name (a tool declared with `token="user"` uses `linked["user"]`
    when given, else `credential`, as the server does); `connected=False` runs the call
    for a tenant that has not connected the provider. `config` is the tenant's
    connector configuration. `policy` defaults to one enabling every tool group: pass
    `ToolPolicy()` to apply the connector's default groups as a new tenant would.

    Policy, argument, credential and upstream failures come back as `is_error=True`
    with the text a client would see. Any other exception (a bug) is raised again, so
    the test fails with its traceback; with `raise_internal_errors=False` the call
    returns the client's generic error text (with the request id) and the exception
    in `ToolCall.exception`.

    `client` is the MCP client the tool talks to (`ctx.client`): by default one that cannot
    be asked anything (`ask` raises `MissingClientCapability`), as a client that declared no
    capabilities; `AnsweringClient` answers prepared questions.
    """
    spec = _find(connector_cls, tool_name)
    if policy is None:
        policy = ToolPolicy(groups=connector_cls.groups())
    if credential is None and connected:
        credential = fake_credential(connector_cls)
    tenant = Tenant(id=TEST_TENANT, slug=TEST_TENANT, name="Test tenant")
    target = ResolvedConnector(
        config=ConnectorConfig(
            tenant_id=tenant.id,
            connector_type=connector_cls.info.id,
            name=connector_cls.info.id,
            configuration=dict(config or {}),
            tool_policy=policy,
        ),
        cls=connector_cls,
        instance=connector_cls(),
        settings=connector_cls.parse_config(config or {}),
        tools={s.name: s for s in connector_cls.enabled_tools(policy)},
    )
    credentials = _TestCredentials(credential if connected else None, linked or {})
    recorder = _RecordingTransport(handler)
    async with UpstreamClient(transport=recorder, sleep=_no_sleep) as upstream:
        outcome = await ToolRunner(upstream, max_result_chars=max_result_chars).run(
            target,
            spec,
            arguments,
            credentials=credentials,
            tenant=tenant,
            principal=Principal(id="test", kind="api_key", tenant_id=tenant.id, scopes=frozenset({"mcp"})),
            request_id=TEST_REQUEST_ID,
            channel=client if client is not None else NullChannel(),
        )
    if outcome.exception is not None and raise_internal_errors:
        raise outcome.exception
    return ToolCall(
        value=outcome.value,
        structured=outcome.structured,
        text=outcome.text,
        is_error=outcome.is_error,
        error=outcome.error,
        requests=recorder.requests,
        content=outcome.content,
        outcome=outcome.outcome,
        code=outcome.code,
        exception=outcome.exception,
    )


def fake_credential(connector_cls: type[Connector], token: str = TEST_TOKEN) -> Credential | None:
    """A credential of the connector's first scheme that needs one (None for `NoAuth` only)."""
    kind = next((s.kind for s in connector_cls.auth if s.kind != "none"), None)
    if kind is None:
        return None
    return Credential(
        tenant_id=TEST_TENANT,
        provider=connector_cls.provider_id(),
        kind=kind,  # type: ignore[arg-type]
        access_token=token,  # type: ignore[arg-type]
        account="test-user" if kind == "basic" else None,
    )


def _find(cls: type[Connector], name: str) -> ToolSpec:
    spec = cls.tools.get(name) or cls.tools.get(f"{cls.info.id}_{name}")
    if spec is None:
        known = ", ".join(sorted(cls.tools)) or "none"
        raise ToolNotFound(f"{cls.__qualname__} has no tool {name!r}; its tools: {known}")
    return spec


class _TestCredentials:
    """The test's credentials, handed out as the server's resolver does: a tool's linked token when the
    tenant has it, else the main one; without one, the platform's own `NotConnected`."""

    def __init__(self, main: Credential | None, linked: Mapping[str, Credential]) -> None:
        self._main = main
        self._linked = linked

    async def credential(self, target: ResolvedConnector, token: str | None, principal: Principal) -> Credential | None:
        cls = target.cls
        if not cls.needs_credential():
            return None
        if token is not None and token in self._linked:
            return self._linked[token]
        if self._main is None:
            # An empty store: the credential manager raises what a tenant without the connection would see.
            manager = CredentialManager(MemoryStore(), OAuthFlows())
            return await manager.get(TEST_TENANT, target.config.provider or cls.provider_id(), cls)
        return self._main

    def rejected(self, target: ResolvedConnector, credential: Credential) -> None:
        """Nothing is cached between test calls, so there is nothing to forget."""


async def _no_sleep(seconds: float) -> None:
    """Retries happen at once: tests see them in `ToolCall.requests` without waiting."""


class _RecordingTransport(httpx.AsyncBaseTransport):
    """Reads and keeps every request, then lets the test's handler answer it."""

    def __init__(self, handler: Handler | httpx.MockTransport | None) -> None:
        self.requests: list[httpx.Request] = []
        if isinstance(handler, httpx.MockTransport):
            self._inner: httpx.MockTransport | None = handler
        else:
            self._inner = httpx.MockTransport(handler) if handler is not None else None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        if self._inner is None:
            raise AssertionError(
                f"the tool sent {request.method} {request.url} but call_tool got no handler; "
                "pass handler=lambda request: httpx.Response(200, json=...)"
            )
        return await self._inner.handle_async_request(request)
