"""What running a tool means, independent of the protocol: policy refusals, upstream binding, error texts.

Shared by the MCP adapter and `sagemcp.testing.call_tool`, so a connector's tests see
exactly what an MCP client would.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .connector import Connector
from .errors import (
    DefinitionError,
    ReadOnlyViolation,
    SageMCPError,
    ToolDisabled,
    UpstreamError,
    UpstreamForbidden,
    UpstreamRateLimited,
)
from .models import ConnectorConfig, Credential
from .tools import ToolSpec
from .upstream import BoundClient, UpstreamClient

__all__ = ["bind_upstream", "policy_error", "upstream_error_text"]


def policy_error(cls: type[Connector], config: ConnectorConfig, spec: ToolSpec) -> SageMCPError:
    """Why the connector's tool policy refuses `spec`: read-only mode, or the tool is not enabled."""
    if config.tool_policy.read_only and not spec.read_only:
        return ReadOnlyViolation(
            f"{spec.name} changes data in {cls.info.title}, and connector {config.name!r} is read-only. "
            "An administrator can turn read-only mode off in the connector's tool policy."
        )
    return ToolDisabled(
        f"{spec.name} is disabled for connector {config.name!r} by its tool policy "
        f"(group {spec.group!r}). An administrator can enable it in the connector's tool policy."
    )


def upstream_error_text(exc: UpstreamError, title: str) -> str:
    """The tool-result text for an upstream failure: status, the provider's message, what to do next."""
    # Some providers (Slack) report errors inside HTTP 200 answers: the status says nothing then.
    status = f" (HTTP {exc.status})" if exc.status and exc.status >= 300 else ""
    text = f"{title} error{status}: {exc.message}"
    if isinstance(exc, UpstreamRateLimited) and exc.retry_after is not None:
        text += f" Retry after {int(exc.retry_after + 0.999)} s."
    if isinstance(exc, UpstreamForbidden) and exc.missing_scopes:
        text += f" Missing scope(s): {', '.join(exc.missing_scopes)}; reconnect {title} with them."
    return text


def bind_upstream(
    upstream: UpstreamClient,
    cls: type[Connector],
    instance: Connector,
    settings: BaseModel,
    credential: Credential | None,
) -> BoundClient | Any:
    """The `ctx.http` of one call: the connector's base URL with the credential's headers and hooks."""
    scheme = cls.scheme_for(credential.kind) if credential is not None else None
    headers = dict(instance.upstream_headers(settings, credential))
    params: dict[str, str] = {}
    if scheme is not None:
        headers.update(scheme.headers(credential))
        params.update(scheme.query(credential))
    base_url = cls.api_base_url(settings)
    if not base_url:
        # A connector without an upstream (base_url defaults to "") must still be callable.
        return _NoUpstream(cls.info.id)
    return upstream.bind(
        base_url=base_url,
        provider=cls.info.id,
        headers=headers,
        params=params,
        error_hook=instance.check_response,
    )


class _NoUpstream:
    """`ctx.http` of a connector that declares no base URL: any use is a definition error, explained."""

    def __init__(self, connector_id: str) -> None:
        self._connector_id = connector_id

    def __repr__(self) -> str:
        return f"<no upstream: connector {self._connector_id} has no base_url>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise DefinitionError(
            f"connector {self._connector_id!r} declares no base_url, so ctx.http cannot send requests; "
            "set base_url on the connector class or override api_base_url()"
        )
