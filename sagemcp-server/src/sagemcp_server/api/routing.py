"""Declaring API operations once: the Starlette route and the OpenAPI operation come from the same `Operation`.

An operation names its path, method, request body model, query model and response
model. The wrapper authenticates the caller, checks path parameters, parses the query
and the JSON body with pydantic (400 for malformed JSON, 422 for invalid values),
calls the handler, and serializes its return value with the response model, so that
responses cannot drift from the document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.platform import Principal

from .errors import ApiError, handle_exception, validation_details

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["MAX_BODY_BYTES", "Context", "Operation", "PathParam", "route_for"]

MAX_BODY_BYTES = 1024 * 1024

Access = Literal["admin", "platform", "public"]
"""`admin`: the platform admin key or a tenant key with scope `admin`; `platform`: the platform admin key only."""


@dataclass(frozen=True)
class PathParam:
    pattern: str
    max_length: int
    description: str
    example: str

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": self.pattern, "maxLength": self.max_length, "examples": [self.example]}


@dataclass
class Context:
    """What a handler gets: the request, the services, the authenticated caller and the path parameters."""

    request: Request
    services: Services
    principal: Principal
    path: dict[str, str]

    @property
    def is_platform_admin(self) -> bool:
        return self.principal.kind == "platform_admin"


Handler = Callable[..., Awaitable[BaseModel | None]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    """Relative to /api/v1, with `{name}` placeholders."""
    operation_id: str
    summary: str
    tag: str
    handler: Handler
    response: type[BaseModel] | None = None
    status: int = 200
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    params: dict[str, PathParam] = field(default_factory=dict)
    access: Access = "admin"
    description: str = ""

    @property
    def full_path(self) -> str:
        return "/api/v1" + self.path


async def _read_json(request: Request, required: bool) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "payload_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        if required:
            raise ApiError(400, "invalid_json", "The request needs a JSON body.")
        return {}
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None


def _bad_text(value: Any, depth: int = 0) -> bool:
    """Whether `value` holds a string no database stores: a NUL character or an unpaired surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if depth > 64:
        return False
    if isinstance(value, dict):
        return any(_bad_text(k, depth + 1) or _bad_text(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_text(v, depth + 1) for v in value)
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def route_for(op: Operation, authenticate: Callable[[Request, Operation], Awaitable[Principal]]) -> Route:
    compiled = {name: re.compile(p.pattern) for name, p in op.params.items()}

    async def endpoint(request: Request) -> Response:
        try:
            return await run(request)
        except Exception as exc:
            return await handle_exception(request, exc)

    async def run(request: Request) -> Response:
        principal = await authenticate(request, op)
        path = {k: str(v) for k, v in request.path_params.items()}
        for name, regex in compiled.items():
            value = path.get(name, "")
            if len(value) > op.params[name].max_length or not regex.match(value):
                raise ApiError(
                    422,
                    f"invalid_{name}",
                    f"{name} {value[:80]!r} is not valid: {op.params[name].description}",
                    [(name, "does not match " + op.params[name].pattern)],
                )
        kwargs: dict[str, Any] = {}
        if _bad_text(list(request.query_params.values())):
            raise ApiError(
                422, "invalid_query", "Query parameters may not contain NUL or unpaired surrogate characters."
            )
        if op.query is not None:
            try:
                kwargs["query"] = op.query.model_validate(dict(request.query_params))
            except ValidationError as exc:
                raise ApiError(422, "invalid_query", "Invalid query parameters.", validation_details(exc)) from None
        if op.body is not None:
            data = await _read_json(request, op.body_required)
            if _bad_text(data):
                raise ApiError(422, "invalid_body", "Strings may not contain NUL or unpaired surrogate characters.")
            try:
                kwargs["body"] = op.body.model_validate(data)
            except ValidationError as exc:
                raise ApiError(422, "invalid_body", "The request body is not valid.", validation_details(exc)) from None
        services: Services = request.app.state.services
        result = await op.handler(Context(request, services, principal, path), **kwargs)
        if op.response is None or result is None:
            return Response(status_code=op.status)
        if not isinstance(result, op.response):  # pragma: no cover - a programming error
            raise TypeError(f"{op.operation_id} returned {type(result).__name__}, not {op.response.__name__}")
        return JSONResponse(result.model_dump(mode="json"), status_code=op.status)

    return Route(op.full_path, endpoint, methods=[op.method], name=op.operation_id)
