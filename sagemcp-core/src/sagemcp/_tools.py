"""The `tool` decorator and `ToolSpec`: a connector method described as an MCP tool.

The input JSON Schema comes from the method's signature (everything after `self`
and the `ToolContext`), the output schema from its return annotation, both through
pydantic. Argument validation errors become `InvalidArguments` naming the fields; the work and
the report are bounded (`validate_payload`), so that no call's arguments, however many
or wrong, cost more than a few milliseconds to refuse or more than a few lines to explain.
A parameter annotated with `sagemcp._pagination.Limit` gets its bounds and description
from the marker and its default, and every tool function runs inside
`sagemcp._pagination.cursor_scope`, so the cursors it makes are bound to it.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Annotated, Any, TypeVar, cast, get_args, get_origin, get_type_hints

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError, create_model

from ._content import ToolResult
from ._models import LINKED_TOKEN_PATTERN
from ._pagination import Limit, cursor_scope
from ._schema import compact_input_schema, compact_output_schema
from .errors import DefinitionError, InvalidArguments

__all__ = [
    "MAX_ARGUMENT_VALUES",
    "MAX_REPORTED_ERRORS",
    "TOOL_NAME_PATTERN",
    "ToolAnnotations",
    "ToolSpec",
    "tool",
    "validate_payload",
    "validation_errors",
]

TOOL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_TOOL_NAME_RE = re.compile(TOOL_NAME_PATTERN)
_MARK = "__sagemcp_tool__"

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
M = TypeVar("M", bound=BaseModel)

MAX_ARGUMENT_VALUES = 50_000
"""The most values (objects, arrays and scalars together) one call's arguments may hold. Larger
arguments are refused before validation: validating and reporting on hundreds of thousands of
values would hold up every other call on the event loop."""
MAX_REPORTED_ERRORS = 20
"""The most problems an `InvalidArguments` lists; its message says how many more there were."""
_MAX_PATH_CHARS = 120
_MAX_MESSAGE_CHARS = 240


@dataclass(frozen=True)
class ToolAnnotations:
    """MCP tool hints. `read_only` tools are never destructive and always idempotent."""

    read_only: bool
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True


@dataclass(frozen=True)
class _ToolDecl:
    """What the decorator records; the connector class turns it into a `ToolSpec`."""

    action: str
    title: str | None
    description: str | None
    group: str
    annotations: ToolAnnotations
    scopes: tuple[str, ...]
    token: str | None
    func: Callable[..., Awaitable[Any]]
    input_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class ToolSpec:
    """A tool as served: name, schemas, annotations, group, and the function behind it."""

    name: str
    action: str
    title: str
    description: str
    group: str
    annotations: ToolAnnotations
    scopes: tuple[str, ...]
    """Upstream OAuth scopes the tool needs: `Connector.oauth_scopes` requests those of the enabled tools."""
    input_model: type[BaseModel]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    func: Callable[..., Awaitable[Any]] = field(repr=False)
    token: str | None = None
    """The linked credential the tool prefers (`"user"`: Slack's user token); see `tool()`."""
    output_adapter: TypeAdapter[Any] | None = field(default=None, repr=False)
    wraps_output: bool = False
    """The return type is not an object, so structured output is `{"result": value}`."""

    @property
    def read_only(self) -> bool:
        return self.annotations.read_only

    def validate_arguments(self, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate raw arguments; return keyword arguments for the function or raise `InvalidArguments`."""
        model = validate_payload(self.input_model, arguments, f"Invalid arguments for {self.name}")
        return {name: getattr(model, name) for name in type(model).model_fields}

    def structured(self, value: Any) -> dict[str, Any] | None:
        """The JSON-ready structured form of a return value, or None when there is no output schema."""
        if self.output_adapter is None:
            return None
        data = self.output_adapter.dump_python(value, mode="json", by_alias=True, exclude_none=True)
        return {"result": data} if self.wraps_output else data


def validation_errors(exc: ValidationError, limit: int = MAX_REPORTED_ERRORS) -> list[tuple[str, str]]:
    """At most `limit` `(field path, message)` pairs from a pydantic error, clipped, without echoing input values."""
    pairs = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False)[: max(limit, 0)]:
        path = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        pairs.append((_clip(path, _MAX_PATH_CHARS), _clip(err["msg"], _MAX_MESSAGE_CHARS)))
    return pairs


def validate_payload(model: type[M], data: Mapping[str, Any] | None, what: str) -> M:
    """`data` validated as `model`, or `InvalidArguments` whose message starts with `what`.

    The work is bounded: more than `MAX_ARGUMENT_VALUES` values are refused unread, and
    names the model does not accept are reported without handing them to pydantic. The
    report is bounded too: at most `MAX_REPORTED_ERRORS` problems, each clipped, then how
    many more there were.
    """
    arguments = dict(data or {})
    if _holds_more_values(arguments, MAX_ARGUMENT_VALUES):
        problem = f"more than {MAX_ARGUMENT_VALUES:,} values"
        raise InvalidArguments(
            f"{what}: the arguments hold {problem}; send fewer or smaller values.", [("(arguments)", problem)]
        )
    unknown: list[str] = []
    if model.model_config.get("extra") == "forbid":
        accepted = _accepted_names(model)
        unknown = [name for name in arguments if name not in accepted]
        if unknown:
            # Left out of validation: pydantic would report each of them, materialising every error.
            arguments = {name: value for name, value in arguments.items() if name in accepted}
    problems: list[tuple[str, str]] = []
    total = len(unknown)
    try:
        validated = model.model_validate(arguments)
    except ValidationError as exc:
        problems = validation_errors(exc)
        total += exc.error_count()
    else:
        if not unknown:
            return validated
    room = MAX_REPORTED_ERRORS - len(problems)
    problems += [(_clip(name, _MAX_PATH_CHARS), "Extra inputs are not permitted") for name in unknown[: max(room, 0)]]
    detail = "; ".join(f"{path}: {msg}" for path, msg in problems)
    if total > len(problems):
        detail += f"; and {total - len(problems):,} more"
    if unknown:
        detail += f" (accepted: {', '.join(model.model_fields) or 'none'})"
    raise InvalidArguments(f"{what}: {detail}", problems)


def _holds_more_values(value: Any, budget: int) -> bool:
    """Whether `value` (parsed JSON) holds more than `budget` values; stops counting once it does."""
    seen = 1
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        seen += len(children)
        if seen > budget:
            return True
        stack.extend(child for child in children if isinstance(child, (dict, list)))
    return False


@functools.cache
def _accepted_names(model: type[BaseModel]) -> frozenset[str]:
    """The argument names a model accepts: field names and their string aliases."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for alias in (info.alias, info.validation_alias):
            if isinstance(alias, str):
                names.add(alias)
    return frozenset(names)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tool(
    *,
    read_only: bool,
    group: str,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = True,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    scopes: tuple[str, ...] | list[str] = (),
    token: str | None = None,
    input_schema: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Declare an async connector method as an MCP tool.

    `name` is the action part (default: the function name); the served name is
    `{connector id}_{action}`. The description defaults to the docstring.
    `read_only` is required so that every tool says what it does to the world.
    `token` names a linked credential the tool prefers (`"user"` for a Slack user
    token stored as `slack:user`); without one the tenant's main credential is used.
    `scopes` are the upstream OAuth scopes the tool needs, requested for that credential
    when the tool is enabled (see `Connector.oauth_scopes`).
    `input_schema` replaces the input schema generated from the signature in `tools/list`, for
    JSON Schema 2020-12 keywords a signature cannot express (`$defs` with `$anchor`, `allOf`,
    `if`/`then`/`else`); its `properties` must name exactly the tool's parameters, which still
    validate the arguments.

    The method takes `self`, the context, then its arguments. Annotate the context
    `ToolContext[MyConfig]` to have `ctx.config` typed as the connector's `Config`.
    The return annotation gives the output schema and `structuredContent`; a returned
    model's `to_markdown()` becomes the result's text block (see `sagemcp.markdown`),
    otherwise the text is the compact JSON of the structured content.
    """
    if read_only and destructive:
        raise DefinitionError("a read-only tool cannot be destructive")
    if isinstance(scopes, str) or not all(isinstance(s, str) and s.strip() for s in scopes):
        raise DefinitionError(f"tool scopes must be a tuple of scope names, not {scopes!r}")
    if token is not None and not re.match(LINKED_TOKEN_PATTERN, token):
        raise DefinitionError(f"tool token {token!r} must match {LINKED_TOKEN_PATTERN}")

    def decorate(func: F) -> F:
        if not inspect.iscoroutinefunction(cast(Any, func)):
            raise DefinitionError(f"tool {func.__qualname__} must be an async function")
        annotations = ToolAnnotations(
            read_only=read_only,
            destructive=False if read_only else destructive,
            idempotent=True if read_only else idempotent,
            open_world=open_world,
        )
        decl = _ToolDecl(
            action=name or func.__name__,
            title=title,
            description=description,
            group=group,
            annotations=annotations,
            scopes=tuple(scopes),
            token=token,
            func=func,
            input_schema=dict(input_schema) if input_schema is not None else None,
        )
        setattr(func, _MARK, decl)
        return func

    return decorate


def declared_tools(namespace: Mapping[str, Any]) -> list[_ToolDecl]:
    """The tool declarations among a class namespace's attributes, in definition order."""
    return [getattr(v, _MARK) for v in namespace.values() if hasattr(v, _MARK)]


def build_tool_spec(connector_id: str, decl: _ToolDecl) -> ToolSpec:
    """Turn a declaration into a `ToolSpec` with its schemas, or raise `DefinitionError`."""
    name = f"{connector_id}_{decl.action}"
    where = decl.func.__qualname__
    if not _TOOL_NAME_RE.match(name):
        raise DefinitionError(f"tool name {name!r} ({where}) must match {TOOL_NAME_PATTERN}")
    if not _TOOL_NAME_RE.match(decl.group):
        raise DefinitionError(f"tool group {decl.group!r} ({where}) must match {TOOL_NAME_PATTERN}")
    doc = inspect.cleandoc(decl.func.__doc__ or "")
    description = decl.description or doc
    if not description:
        raise DefinitionError(f"tool {name} ({where}) needs a description or a docstring")
    input_model = _input_model(name, decl.func)
    output_schema, adapter, wraps = _output(decl.func)
    return ToolSpec(
        name=name,
        action=decl.action,
        title=decl.title or decl.action.replace("_", " ").capitalize(),
        description=description,
        group=decl.group,
        annotations=decl.annotations,
        scopes=decl.scopes,
        input_model=input_model,
        input_schema=_declared_schema(name, decl.input_schema, input_model)
        if decl.input_schema is not None
        else compact_input_schema(input_model.model_json_schema()),
        output_schema=output_schema,
        func=_in_cursor_scope(name, decl.func),
        token=decl.token,
        output_adapter=adapter,
        wraps_output=wraps,
    )


def function_parameters(func: Callable[..., Any], skip: int = 2) -> list[inspect.Parameter]:
    """The parameters after `self` and the context."""
    params = list(inspect.signature(func).parameters.values())[skip:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DefinitionError(f"{func.__qualname__}: *args and **kwargs are not allowed in tools")
    return params


def signature_hints(func: Callable[..., Any], skip: int = 2) -> dict[str, Any]:
    """The resolved annotations of a function's return value and of its parameters after the first `skip`.

    The skipped ones (`self` and the context) are never evaluated, so a tool may annotate
    `ctx: ToolContext[MyConfig]` with `MyConfig` imported only under `TYPE_CHECKING`.
    """
    skipped = list(inspect.signature(func).parameters)[:skip]
    wanted = {k: v for k, v in inspect.get_annotations(func).items() if k not in skipped}
    globalns = getattr(inspect.unwrap(func), "__globals__", {})
    return get_type_hints(SimpleNamespace(__annotations__=wanted), globalns=globalns, include_extras=True)


def arguments_model(model_name: str, func: Callable[..., Any], skip: int = 2) -> type[BaseModel]:
    """A pydantic model of a function's parameters (after `self` and the context)."""
    try:
        hints = signature_hints(func, skip)
    except Exception as exc:  # unresolved forward references
        raise DefinitionError(f"{func.__qualname__}: cannot resolve annotations ({exc})") from exc
    fields: dict[str, Any] = {}
    for p in function_parameters(func, skip):
        if p.name not in hints:
            raise DefinitionError(f"{func.__qualname__}: parameter {p.name!r} needs a type annotation")
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (_with_limit(hints[p.name], default, f"{func.__qualname__}({p.name})"), default)
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=False)
    model_name = "".join(part.capitalize() for part in model_name.split("_")) + "Arguments"
    return create_model(model_name, __config__=config, **fields)


def _with_limit(hint: Any, default: Any, where: str) -> Any:
    """`hint` with a `Limit` marker replaced by its field (bounds, and a description naming the default)."""
    if get_origin(hint) is not Annotated:
        return hint
    base, *metadata = get_args(hint)
    limits = [m for m in metadata if isinstance(m, Limit)]
    if not limits:
        return hint
    if base is not int or len(limits) > 1:
        raise DefinitionError(f"{where}: a Limit parameter must be annotated Annotated[int, Limit(...)]")
    try:
        info = limits[0].field(default)
    except DefinitionError as exc:
        raise DefinitionError(f"{where}: {exc}") from None
    rest = [m for m in metadata if not isinstance(m, Limit)]
    # A model that sends `"limit": null` means "the default", not an error.
    use_default = BeforeValidator(lambda value: default if value is None else value)
    return Annotated[tuple([int, *rest, info, use_default])]  # type: ignore[valid-type]


def _in_cursor_scope(name: str, func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`func`, run with the cursors it makes and reads bound to the tool `name`."""

    @functools.wraps(func)
    async def call(*args: Any, **kwargs: Any) -> Any:
        with cursor_scope(name):
            return await func(*args, **kwargs)

    return call


def _input_model(name: str, func: Callable[..., Any]) -> type[BaseModel]:
    try:
        return arguments_model(name, func)
    except DefinitionError:
        raise
    except Exception as exc:
        raise DefinitionError(f"tool {name}: cannot build the input schema ({exc})") from exc


def _output(func: Callable[..., Any]) -> tuple[dict[str, Any] | None, TypeAdapter[Any] | None, bool]:
    hints = signature_hints(func)
    ret = hints.get("return", inspect.Signature.empty)
    if ret in (inspect.Signature.empty, None, type(None), ToolResult, str, Any):
        return None, None, False
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(ret)
        schema = compact_output_schema(adapter.json_schema(mode="serialization"))
    except Exception as exc:
        raise DefinitionError(f"{func.__qualname__}: cannot build the output schema ({exc})") from exc
    if schema.get("type") == "object":
        return schema, adapter, False
    defs = schema.pop("$defs", None)
    wrapped: dict[str, Any] = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    if defs:
        wrapped["$defs"] = defs
    return wrapped, adapter, True


def _declared_schema(name: str, schema: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """A tool's declared input schema, checked against its parameters (the model that validates calls)."""
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise DefinitionError(f"tool {name}: input_schema must be an object schema with properties")
    declared, parameters = set(schema["properties"]), set(model.model_json_schema().get("properties", {}))
    if declared != parameters:
        raise DefinitionError(
            f"tool {name}: input_schema properties {sorted(declared)} differ from the parameters {sorted(parameters)}"
        )
    return schema
