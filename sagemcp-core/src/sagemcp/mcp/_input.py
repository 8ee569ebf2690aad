"""Input requests of a call (`ctx.client.ask`) on the wire: sent at once on 2025-11-25, multi-round on 2026-07-28.

On 2026-07-28 a call that needs input is answered with an `InputRequiredResult` whose
`requestState` carries the answers gathered in earlier rounds. The client holds that state
and sends it back, so it is sealed: an HMAC-SHA256 with the server's key over the answers,
an expiry and a binding to the tenant, the connector(s) of the endpoint, the caller and the
request (method and tool or prompt name). A state that was altered, expired, or minted for
another tenant, connector, caller or request is refused with -32602, so nobody can forge
answers or replay one tenant's answers on another tenant's path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from .._content import ElicitResult, SamplingResult
from .._input import (
    ClientCapability,
    ElicitInput,
    InputAnswer,
    InputRequest,
    InputRequired,
    MissingClientCapability,
    Root,
    RootsInput,
    RootsResult,
    SampleInput,
    capability_of,
)
from ._channel import SessionChannel
from ._resolve import CallScope

__all__ = [
    "ModernChannel",
    "RequestStateSealer",
    "binding_of",
    "input_required_result",
    "is_modern",
    "missing_capability_error",
]

STATE_TTL_SECONDS = 600.0
"""How long a client may take to answer one round; an older state is refused."""
MAX_STATE_CHARS = 64_000


def is_modern(ctx: ServerRequestContext[Any]) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def binding_of(cs: CallScope, method: str, name: str) -> str:
    """What a request state is bound to: tenant, the endpoint's connectors, the caller, the request."""
    connectors = ",".join(sorted(t.config.id for t in cs.targets))
    return "\n".join((cs.tenant.id, connectors, "wide" if cs.tenant_wide else "one", cs.principal.id, method, name))


class RequestStateSealer:
    """Seals and opens `requestState` values with one server key (share it across replicas)."""

    def __init__(self, key: bytes, ttl: float = STATE_TTL_SECONDS) -> None:
        if len(key) < 32:
            raise ValueError("the request-state key must be at least 32 bytes")
        self._key = key
        self.ttl = ttl

    def seal(self, binding: str, answers: Mapping[str, Any], *, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.ttl)
        payload = json.dumps({"a": dict(answers), "e": expires}, separators=(",", ":"), sort_keys=True).encode()
        body = base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")
        return f"{body}.{self._mac(binding, body)}"

    def open(self, binding: str, state: str, *, now: float | None = None) -> dict[str, Any]:
        """The answers sealed in `state`, or MCPError -32602 when it is not a valid state for `binding`."""
        body, _, mac = state.partition(".")
        if len(state) > MAX_STATE_CHARS or not body or not hmac.compare_digest(mac, self._mac(binding, body)):
            raise _invalid_state("it was altered, or issued for another tenant, connector, caller or request")
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            answers, expires = payload["a"], payload["e"]
        except (ValueError, KeyError, TypeError):
            raise _invalid_state("it is not one of this server's") from None
        if not isinstance(answers, dict) or not isinstance(expires, int):
            raise _invalid_state("it is not one of this server's")
        if (time.time() if now is None else now) > expires:
            raise _invalid_state("it expired; call again without it")
        return answers

    def _mac(self, binding: str, body: str) -> str:
        digest = hmac.new(self._key, f"{binding}\n{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _invalid_state(why: str) -> MCPError:
    return MCPError(code=types.INVALID_PARAMS, message=f"Invalid requestState: {why}.")


class ModernChannel(SessionChannel):
    """The channel of a 2026-07-28 request: `ask` answers from this round's responses and the sealed
    earlier ones, or raises `InputRequired` for what is missing."""

    def __init__(
        self,
        ctx: ServerRequestContext[Any],
        answered: Mapping[str, Any],
        responses: Mapping[str, Any] | None,
    ) -> None:
        super().__init__(ctx.session, ctx.request_id)
        self._capabilities = ctx.session.client_capabilities
        self._answered = dict(answered)
        self._asked: set[str] = set()
        for key, value in (responses or {}).items():
            self._answered[key] = (
                value.model_dump(by_alias=True, mode="json", exclude_none=True)
                if isinstance(value, BaseModel)
                else value
            )

    def supports(self, capability: ClientCapability) -> bool:
        return getattr(self._capabilities, capability, None) is not None if self._capabilities else False

    async def ask(self, requests: Mapping[str, InputRequest]) -> dict[str, InputAnswer]:
        for request in requests.values():
            if not self.supports(capability_of(request)):
                raise MissingClientCapability(capability_of(request))
        answers: dict[str, InputAnswer] = {}
        missing: dict[str, InputRequest] = {}
        self._asked.update(requests)
        for key, request in requests.items():
            answer = _parse_answer(request, self._answered[key]) if key in self._answered else None
            if answer is None:
                # Not answered, or not an answer to this request (a roots list for a form): asked again.
                self._answered.pop(key, None)
                missing[key] = request
            else:
                answers[key] = answer
        if missing:
            # Only answers to what this call asked travel on: extra keys a client sent are dropped here.
            raise InputRequired(missing, {k: v for k, v in self._answered.items() if k in self._asked})
        return answers

    async def sample(self, prompt: str, *, max_tokens: int = 512, system: str | None = None) -> SamplingResult:
        key = _derived_key("sample", prompt, max_tokens, system)
        answer = (await self.ask({key: SampleInput(prompt, max_tokens, system)}))[key]
        assert isinstance(answer, SamplingResult)
        return answer

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitResult:
        key = _derived_key("elicit", message, schema)
        answer = (await self.ask({key: ElicitInput(message, schema)}))[key]
        assert isinstance(answer, ElicitResult)
        return answer


def _derived_key(kind: str, *parts: Any) -> str:
    """A stable key for the one-shot `sample`/`elicit` calls, so the same question maps to the same answer."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _parse_answer(request: InputRequest, raw: Any) -> InputAnswer | None:
    """The client's wire answer as core's type; None when it is no answer to `request`."""
    try:
        if isinstance(request, ElicitInput):
            elicited = types.ElicitResult.model_validate(raw)
            return ElicitResult(action=elicited.action, content=dict(elicited.content) if elicited.content else None)
        if isinstance(request, SampleInput):
            sampled = types.CreateMessageResult.model_validate(raw)
            text = sampled.content.text if isinstance(sampled.content, types.TextContent) else None
            return SamplingResult(role=sampled.role, text=text, model=sampled.model, stop_reason=sampled.stop_reason)
        roots = types.ListRootsResult.model_validate(raw)
        return RootsResult(roots=[Root(uri=str(r.uri), name=r.name) for r in roots.roots])
    except ValidationError:
        return None


def _wire_request(request: InputRequest) -> types.InputRequest:
    if isinstance(request, ElicitInput):
        return types.ElicitRequest(
            params=types.ElicitRequestFormParams(message=request.message, requested_schema=request.schema)
        )
    if isinstance(request, SampleInput):
        message = types.SamplingMessage(role="user", content=types.TextContent(type="text", text=request.prompt))
        return types.CreateMessageRequest(
            params=types.CreateMessageRequestParams(
                messages=[message], max_tokens=request.max_tokens, system_prompt=request.system
            )
        )
    assert isinstance(request, RootsInput)
    return types.ListRootsRequest()


def input_required_result(signal: InputRequired, sealer: RequestStateSealer, binding: str) -> types.InputRequiredResult:
    """The `InputRequiredResult` of one round: the missing requests and the sealed answers so far."""
    return types.InputRequiredResult(
        input_requests={key: _wire_request(request) for key, request in signal.requests.items()},
        request_state=sealer.seal(binding, signal.answered),
    )


def missing_capability_error(exc: MissingClientCapability) -> MCPError:
    """JSON-RPC -32021 with `requiredCapabilities` naming the missing one."""
    required = types.ClientCapabilities.model_validate({exc.capability: {}})
    data = types.MissingRequiredClientCapabilityErrorData(required_capabilities=required)
    return MCPError(
        code=types.MISSING_REQUIRED_CLIENT_CAPABILITY,
        message=str(exc),
        data=data.model_dump(by_alias=True, mode="json", exclude_none=True),
    )
