"""Running a tool, independent of the protocol: `ToolRunner`, the one pipeline every tool call goes through.

A call is checked against the connector's tool policy, its arguments are validated,
the credential is fetched from a `CredentialSource`, `ctx.http` is bound to the
connector's upstream (`bind_upstream`), the tool runs, its failures are mapped to
error results and its return value to content (`sagemcp._results`). The MCP adapter
and `sagemcp.testing.call_tool` both run tools this way, so a connector's tests see
exactly what an MCP client would.

No exception text from our internals reaches the client: an unexpected exception is
logged with its traceback and the request id, and the result says only which tool
failed and the request id to quote.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from pydantic import BaseModel

from ._connector import Connector
from ._context import ClientChannel, ToolContext
from ._input import InputRequired, MissingClientCapability
from ._limiter import CallGuard, Permit
from ._models import ConnectorConfig, Credential, Principal, Tenant
from ._results import Outcome, ToolOutcome, cap_text, failure, render_value
from ._tools import ToolSpec
from ._upstream import BoundClient, UpstreamClient, origin_of
from .errors import (
    AccessDenied,
    CallLimitReached,
    DefinitionError,
    InvalidArguments,
    ReadOnlyViolation,
    SageMCPError,
    ToolDisabled,
    UpstreamAuthError,
    UpstreamError,
    UpstreamForbidden,
    UpstreamRateLimited,
)

__all__ = [
    "CredentialSource",
    "ResolvedConnector",
    "ToolRunner",
    "bind_upstream",
    "credential_binding",
    "policy_error",
    "upstream_error_text",
]

logger = logging.getLogger("sagemcp._execution")


def policy_error(cls: type[Connector], config: ConnectorConfig, spec: ToolSpec) -> SageMCPError:
    """Why the connector's tool policy refuses `spec`: read-only mode, or the tool is not enabled."""
    if config.tool_policy.read_only and not spec.read_only:
        return ReadOnlyViolation(
            f"{spec.name} changes data in {cls.info.title}, and connector {config.name!r} is read-only. "
            "An administrator can turn read-only mode off in the connector's tool policy."
        )
    if spec.name in config.tool_policy.exclude_tools:
        return ToolDisabled(
            f"{spec.name} is disabled for connector {config.name!r}: excluded by name in its tool policy. "
            "An administrator can remove it from the policy's exclude_tools."
        )
    return ToolDisabled(
        f"{spec.name} is disabled for connector {config.name!r} by its tool policy "
        f"(group {spec.group!r} is not enabled). An administrator can enable the group, or name the tool in "
        "include_tools."
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
    """The `ctx.http` of one call: the connector's base URL with the credential's headers and hooks.

    Base URL and credential origins come from the connector's hooks, given the
    configuration and this credential; the auth headers and params go to those origins only,
    and, for a credential bound to origins (`Credential.origins`), only to those of them it
    was stored for.
    """
    scheme = cls.scheme_for(credential.kind) if credential is not None else None
    headers = dict(instance.upstream_headers(settings, credential))
    params: dict[str, str] = {}
    if scheme is not None:
        headers.update(scheme.headers(credential))
        params.update(scheme.query(credential))
    base_url = cls.api_base_url(settings, credential)
    if not base_url:
        # A connector without an upstream (base_url defaults to "") must still be callable.
        return _NoUpstream(cls.info.id)
    return upstream.bind(
        base_url=base_url,
        provider=cls.info.id,
        headers=headers,
        params=params,
        error_hook=instance.check_response,
        origins=cls.credential_origins(settings, credential),
        bound_origins=credential.origins if credential is not None else None,
    )


def credential_binding(cls: type[Connector], settings: BaseModel, credential: Credential | None) -> tuple[str, ...]:
    """The origins a credential is bound to when it is stored for a connector with this configuration.

    The base URL's origin (`api_base_url`) and the declared ones (`credential_origins`),
    spelled as `BoundClient` compares them; empty for a connector without an upstream.
    A store records them in `Credential.origins` so that the credential is never sent to
    a host the configuration names only later.
    """
    base_url = cls.api_base_url(settings, credential)
    if not base_url:
        return ()
    found = [origin_of(base_url)]
    for origin in cls.credential_origins(settings, credential):
        normalised = origin_of(origin)
        if normalised not in found:
            found.append(normalised)
    return tuple(found)


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
            "set base_url on the connector class or override api_base_url(config, credential)"
        )


_BOUND_PER_TARGET = 1_024
"""`ctx.http` clients a target keeps, one per credential key and member (`per_user` connectors have one per member)."""


class CredentialSource(Protocol):
    """Where the credentials of a tenant's calls come from: the adapter's cached tenant view, or a test's."""

    async def credential(self, target: ResolvedConnector, token: str | None, principal: Principal) -> Credential | None:
        """The credential for a call to `target` by `principal` (the linked one named `token` when there is one);
        None if the connector needs none. A `per_user` connector's is the calling member's own
        (`principal.user_id`). Raises a `CredentialError` (`NotConnected`, `ConnectionRequired`, ...) saying how
        to connect, or `AccessDenied` when the caller cannot use the connector's credentials at all."""
        ...

    def rejected(self, target: ResolvedConnector, credential: Credential) -> None:
        """The upstream refused `credential` (HTTP 401): forget any copy kept, so the next call reloads it."""
        ...


@dataclass(eq=False)
class ResolvedConnector:
    """One tenant's connector, ready to run tools: its record, class, shared instance, parsed config, enabled tools.

    It keeps the `ctx.http` built for each credential, so the steady state binds nothing;
    it lives as long as whatever resolved it (the adapter's cached tenant view).
    """

    config: ConnectorConfig
    cls: type[Connector]
    instance: Connector
    settings: BaseModel
    tools: dict[str, ToolSpec]
    """The tools the tenant's policy enables, by name."""
    logger: logging.Logger = field(init=False, repr=False)
    """The connector's logger (`sagemcp._connector.{id}`), behind each call's `ctx.logger`."""
    _bound: OrderedDict[tuple[str, str | None] | None, tuple[Credential | None, Any]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.logger = logging.getLogger(f"sagemcp._connector.{self.cls.info.id}")

    def upstream_for(self, upstream: UpstreamClient, credential: Credential | None) -> BoundClient | Any:
        """The `ctx.http` for calls with `credential`, bound once per credential object.

        A refreshed or replaced credential is a new object, so it gets a new client. One
        target is used with one `UpstreamClient`. Members' own credentials each get theirs,
        the least recently used dropped beyond `_BOUND_PER_TARGET`.
        """
        key = (credential.provider, credential.user_id) if credential is not None else None
        cached = self._bound.get(key)
        if cached is not None and cached[0] is credential:
            self._bound.move_to_end(key)
            return cached[1]
        bound = bind_upstream(upstream, self.cls, self.instance, self.settings, credential)
        self._bound[key] = (credential, bound)
        self._bound.move_to_end(key)
        while len(self._bound) > _BOUND_PER_TARGET:
            self._bound.popitem(last=False)
        return bound


class ToolRunner:
    """Runs tool calls: policy, arguments, credential, upstream binding, the call, error mapping, result content.

    One runner serves every tenant (it holds only the shared `UpstreamClient`, the
    result size cap and the `CallGuard` of the tool-call limits); everything about a call
    is passed to `run()`.
    """

    def __init__(
        self, upstream: UpstreamClient, *, max_result_chars: int = 100_000, guard: CallGuard | None = None
    ) -> None:
        self.upstream = upstream
        self.max_result_chars = max_result_chars
        self.guard = guard

    def context(
        self,
        target: ResolvedConnector,
        credential: Credential | None,
        *,
        tenant: Tenant,
        principal: Principal,
        request_id: str,
        channel: ClientChannel,
    ) -> ToolContext:
        """The `ToolContext` of one call (tools, and also resources, prompts and completions)."""
        return ToolContext(
            tenant=tenant,
            connector=target.config,
            config=target.settings,
            credential=credential,
            http=target.upstream_for(self.upstream, credential),
            principal=principal,
            request_id=request_id,
            client=channel,
            logger=logging.LoggerAdapter(target.logger, {"tenant": tenant.slug, "request_id": request_id}),
        )

    async def run(
        self,
        target: ResolvedConnector,
        spec: ToolSpec,
        arguments: Mapping[str, Any] | None,
        *,
        credentials: CredentialSource,
        tenant: Tenant,
        principal: Principal,
        request_id: str,
        channel: ClientChannel,
    ) -> ToolOutcome:
        """Run `spec` on `target` for one caller; every failure but cancellation comes back as an error outcome.

        Outcomes: `denied` (tool policy; a caller acting for no member on a `per_user`
        connector), `invalid` (arguments, also when the tool itself rejects one, such as a
        stale cursor), `limited` (a tool-call limit or an upstream back-off of the credential:
        the tool is not run), `upstream_error` (the provider failed, with its status and what to
        do), `error` (credential, other platform errors, results over the cap, and bugs:
        logged, answered generically with the request id), `ok`.
        """
        if spec.name not in target.tools:
            refusal = policy_error(target.cls, target.config, spec)
            return self._failure(refusal.message, "denied", refusal.code, refusal)
        try:
            kwargs = spec.validate_arguments(arguments)
        except InvalidArguments as exc:
            return self._failure(exc.message, "invalid", exc.code, exc)
        credential: Credential | None = None
        permit: Permit | None = None
        try:
            try:
                credential = await credentials.credential(target, spec.token, principal)
            except AccessDenied as exc:
                # The caller cannot use this connector's credentials at all (no member behind a per_user call).
                return self._failure(exc.message, "denied", exc.code, exc)
            if self.guard is not None:
                permit = await self.guard.admit(tenant, credential, provider=target.cls.info.title)
            ctx = self.context(
                target, credential, tenant=tenant, principal=principal, request_id=request_id, channel=channel
            )
            value = await spec.func(target.instance, ctx, **kwargs)
            return render_value(spec, value, self.max_result_chars)
        except (InputRequired, MissingClientCapability):
            raise  # the protocol adapter answers these (an input round, or -32021)
        except CallLimitReached as exc:
            return self._failure(exc.message, "limited", exc.code, exc)
        except UpstreamError as exc:
            if isinstance(exc, UpstreamAuthError) and credential is not None:
                credentials.rejected(target, credential)
            if isinstance(exc, UpstreamRateLimited) and credential is not None and self.guard is not None:
                await self.guard.upstream_limited(credential, exc.retry_after)
            return self._failure(upstream_error_text(exc, target.cls.info.title), "upstream_error", exc.code, exc)
        except InvalidArguments as exc:
            return self._failure(exc.message, "invalid", exc.code, exc)
        except SageMCPError as exc:
            return self._failure(exc.message, "error", exc.code, exc)
        except Exception as exc:
            logger.exception("tool %s failed (request %s, tenant %s)", spec.name, request_id, tenant.slug)
            outcome = self._failure(
                f"{spec.name} failed with an internal error. Reference: {request_id}.", "error", "internal_error"
            )
            outcome.exception = exc
            return outcome
        finally:
            if permit is not None and self.guard is not None:
                # Shielded: a cancelled call must still free its concurrency slot.
                with anyio.CancelScope(shield=True):
                    await self.guard.release(permit)

    def _failure(
        self, message: str, outcome: Outcome, code: str | None, error: SageMCPError | None = None
    ) -> ToolOutcome:
        """An error result, its text capped like results: an error echoing a huge input stays small."""
        return failure(cap_text(message, self.max_result_chars), outcome, code, error)
