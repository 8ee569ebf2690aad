"""`call_tool`: run one connector tool as the platform would, against an `httpx.MockTransport`.

No MCP server, store or network: the tool policy is enforced, the arguments are
validated, a `ToolContext` is built for a test tenant with a fake credential and an
`UpstreamClient` whose transport is the test's handler, and the result is converted
by the MCP adapter's own code. Every request the tool sent is recorded, body read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..connector import Connector
from ..context import ToolContext
from ..errors import InvalidArguments, SageMCPError, ToolNotFound, UpstreamError
from ..execution import bind_upstream, policy_error, upstream_error_text
from ..mcp._convert import tool_value_to_result
from ..models import ConnectorConfig, Credential, Principal, Tenant, ToolPolicy
from ..tools import ToolSpec
from ..upstream import UpstreamClient

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
    """The text content of the MCP result (parts joined by newlines)."""
    is_error: bool
    error: SageMCPError | None = None
    """The error behind an error result (policy, arguments, upstream, credential), if any."""
    requests: list[httpx.Request] = field(default_factory=list)
    """Every request the tool sent upstream, in order, bodies read (`request.content`)."""

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
) -> ToolCall:
    """Run `tool_name` (full name, or the action without the connector prefix) with `arguments`.

    `handler` answers upstream requests (a request without one fails the test).
    `credential` defaults to `fake_credential(connector_cls)`; `linked` holds the tenant's
    linked credentials by name (a tool declared with `token="user"` uses `linked["user"]`
    when given, else `credential`, as the server does); `config` is the tenant's
    connector configuration. `policy` defaults to one enabling every tool group: pass
    `ToolPolicy()` to apply the connector's default groups as a new tenant would.
    Policy, argument and upstream failures come back as `is_error=True` with the
    adapter's text; any other exception (a bug) propagates.
    """
    spec = _find(connector_cls, tool_name)
    if policy is None:
        policy = ToolPolicy(groups=connector_cls.groups())
    settings = connector_cls.parse_config(config or {})
    if credential is None:
        credential = fake_credential(connector_cls)
    if spec.token is not None and linked and spec.token in linked:
        credential = linked[spec.token]
    tenant = Tenant(id=TEST_TENANT, slug=TEST_TENANT, name="Test tenant")
    connector_config = ConnectorConfig(
        tenant_id=tenant.id,
        connector_type=connector_cls.info.id,
        name=connector_cls.info.id,
        configuration=dict(config or {}),
        tool_policy=policy,
    )
    instance = connector_cls()
    enabled = {s.name: s for s in connector_cls.enabled_tools(policy)}
    recorder = _RecordingTransport(handler)

    if spec.name not in enabled:
        exc = policy_error(connector_cls, connector_config, spec)
        return ToolCall(None, None, exc.message, True, exc, recorder.requests)
    try:
        kwargs = spec.validate_arguments(arguments)
    except InvalidArguments as exc:
        return ToolCall(None, None, exc.message, True, exc, recorder.requests)

    if not connector_cls.needs_credential():
        credential = None
    value: Any = None
    async with UpstreamClient(transport=recorder, sleep=_no_sleep) as upstream:
        try:
            ctx = ToolContext(
                tenant=tenant,
                connector=connector_config,
                config=settings,
                credential=credential,
                http=bind_upstream(upstream, connector_cls, instance, settings, credential),
                principal=Principal(id="test", kind="api_key", tenant_id=tenant.id, scopes=frozenset({"mcp"})),
                request_id=TEST_REQUEST_ID,
                logger=logging.LoggerAdapter(
                    logging.getLogger(f"sagemcp.connector.{connector_cls.info.id}"),
                    {"tenant": tenant.slug, "request_id": TEST_REQUEST_ID},
                ),
            )
            value = await spec.func(instance, ctx, **kwargs)
        except UpstreamError as exc:
            return ToolCall(
                None, None, upstream_error_text(exc, connector_cls.info.title), True, exc, recorder.requests
            )
        except SageMCPError as exc:
            return ToolCall(None, None, exc.message, True, exc, recorder.requests)
    result = tool_value_to_result(spec, value, max_result_chars)
    text = "\n".join(str(getattr(part, "text", "")) for part in result.content if part.type == "text")
    return ToolCall(value, result.structured_content, text, bool(result.is_error), None, recorder.requests)


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
