"""Contract checks for a connector class: what every connector must get right before it is served.

`check_connector(cls)` returns every problem found (an empty list when the class is
fine); `assert_connector_valid(cls)` fails a test with all of them at once. Each
message names the tool (or the class attribute) and says how to fix it. The checks
read the class only: no instance is made and no upstream is called.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .._auth import ApiKey, AuthScheme, BearerToken, OAuth2
from .._connector import Connector, ConnectorInfo
from .._tools import TOOL_NAME_PATTERN, ToolAnnotations, ToolSpec

__all__ = ["MIN_DESCRIPTION_LENGTH", "assert_connector_valid", "check_connector"]

MIN_DESCRIPTION_LENGTH = 20
"""A tool description shorter than this rarely tells a model when to use the tool."""

_MAX_TOOL_NAME = 64
_UNDESCRIBED_OK = frozenset({"limit", "cursor"})
_LIST_MARKERS = ("_list_", "_search_")
_GROUP_RE = re.compile(TOOL_NAME_PATTERN)
_URI_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_PLACEHOLDER_RE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def check_connector(cls: Any) -> list[str]:
    """Every problem found in connector class `cls`; an empty list means it passes."""
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        return [f"{cls!r} is not a subclass of sagemcp.Connector; derive the connector class from Connector."]
    name = cls.__qualname__
    info = cls.__dict__.get("info", getattr(cls, "info", None))
    if not isinstance(info, ConnectorInfo):
        return [f"{name}.info must be a ConnectorInfo(id=..., title=..., description=...); set it on the class."]
    problems = list(_check_info(name, info))
    tools: Mapping[str, ToolSpec] = cls.tools
    if not tools:
        problems.append(f"{name} declares no tools; declare at least one async method with @tool(...).")
    seen: dict[str, str] = {}
    for key, spec in tools.items():
        if spec.name in seen:
            problems.append(
                f"{spec.name}: the name is used by two tools ({seen[spec.name]!r} and {key!r}); rename one of them."
            )
        seen[spec.name] = key
        if key != spec.name:
            problems.append(f"{spec.name}: registered under the key {key!r}; the key must be the tool's name.")
        problems.extend(_check_tool(info.id, spec))
    problems.extend(_check_groups(name, info, tools))
    problems.extend(_check_auth(cls))
    problems.extend(_check_resources(cls))
    problems.extend(_check_base_url(cls))
    problems.extend(_check_origins(cls))
    return problems


def assert_connector_valid(cls: Any) -> None:
    """Fail with an `AssertionError` listing every problem `check_connector` finds."""
    problems = check_connector(cls)
    if problems:
        label = getattr(cls, "__qualname__", repr(cls))
        listing = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"connector {label} has {len(problems)} problem(s):\n{listing}")


# -- connector metadata -----------------------------------------------------------------


def _check_info(name: str, info: ConnectorInfo) -> Iterator[str]:
    for attr in ("id", "title", "description"):
        if not str(getattr(info, attr, "") or "").strip():
            yield f"{name}.info.{attr} is empty; give the connector a {attr}."
    if info.id and not re.match(r"^[a-z][a-z0-9]{0,31}$", info.id):
        yield f"{name}.info.id {info.id!r} must be 1-32 lowercase letters or digits, starting with a letter."


def _check_groups(name: str, info: ConnectorInfo, tools: Mapping[str, ToolSpec]) -> Iterator[str]:
    groups = {spec.group for spec in tools.values()}
    for group in info.default_groups or ():
        if group not in groups:
            known = ", ".join(sorted(groups)) or "none"
            yield (
                f"{name}.info.default_groups names {group!r}, which no tool belongs to (groups: {known}); "
                "remove it or put a tool in that group."
            )


# -- tools ------------------------------------------------------------------------------


def _check_tool(connector_id: str, spec: ToolSpec) -> Iterator[str]:
    tool = spec.name
    if not re.fullmatch(rf"{re.escape(connector_id)}_[a-z0-9_]+", tool):
        yield (
            f"{tool}: the name must be '{connector_id}_' followed by lowercase letters, digits or underscores; "
            "rename the tool (the @tool name= argument or the method name)."
        )
    if len(tool) > _MAX_TOOL_NAME:
        yield f"{tool}: the name is {len(tool)} characters, over {_MAX_TOOL_NAME}; shorten the action name."
    if len(spec.description.strip()) < MIN_DESCRIPTION_LENGTH:
        yield (
            f"{tool}: the description {spec.description.strip()!r} is under {MIN_DESCRIPTION_LENGTH} characters; "
            "say what the tool does and when to use it (docstring or @tool description=)."
        )
    if not isinstance(spec.group, str) or not _GROUP_RE.match(spec.group):
        yield (
            f"{tool}: the tool has no valid group ({spec.group!r}); "
            f"pass @tool(group='read') or similar, matching {TOOL_NAME_PATTERN}."
        )
    yield from _check_annotations(tool, spec.annotations)
    yield from _check_schema(tool, "input", spec.input_schema)
    if spec.output_schema is not None:
        yield from _check_schema(tool, "output", spec.output_schema)
    if isinstance(spec.input_schema, Mapping):
        yield from _check_parameters(tool, spec.input_schema)


def _check_annotations(tool: str, annotations: Any) -> Iterator[str]:
    if not isinstance(annotations, ToolAnnotations):
        yield f"{tool}: annotations are missing; declare the tool with @tool(read_only=..., group=...)."
        return
    if annotations.read_only and annotations.destructive:
        yield f"{tool}: annotated read-only and destructive at once; a read-only tool cannot be destructive."
    if annotations.read_only and not annotations.idempotent:
        yield f"{tool}: annotated read-only but not idempotent; reading twice must be safe (idempotent=True)."


def _check_schema(tool: str, which: str, schema: Any) -> Iterator[str]:
    if not isinstance(schema, Mapping):
        yield f"{tool}: the {which} schema is not a JSON object; build it from type annotations."
        return
    error = best_match(_META.iter_errors(schema))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        yield (
            f"{tool}: the {which} schema is not a valid JSON Schema (Draft 2020-12) at {where}: "
            f"{_short(error.message)}; fix the annotation that produces it."
        )
    if schema.get("type") != "object":
        yield (
            f"{tool}: the {which} schema has type {schema.get('type')!r}, not 'object'; "
            + (
                "tool parameters always form an object."
                if which == "input"
                else "return a pydantic model (or let the tool wrap the value as {'result': ...})."
            )
        )


def _check_parameters(tool: str, schema: Mapping[str, Any]) -> Iterator[str]:
    properties = schema.get("properties") or {}
    if not isinstance(properties, Mapping):
        return
    for param, prop in properties.items():
        if param in _UNDESCRIBED_OK or not isinstance(prop, Mapping):
            continue
        if not _described(prop, schema):
            yield (
                f"{tool}: parameter {param!r} has no description; add one with "
                f"`{param}: Annotated[..., Field(description='...')]`."
            )
    if any(marker in f"{tool}_" for marker in _LIST_MARKERS):
        limit = properties.get("limit")
        if not isinstance(limit, Mapping):
            yield (
                f"{tool}: a list/search tool must take a bounded `limit` to bound its result: "
                "`limit: Annotated[int, Limit(maximum=100)] = 20` (sagemcp._pagination)."
            )
        elif not _has_maximum(limit, schema):
            yield f"{tool}: parameter 'limit' has no maximum; use `Annotated[int, Limit(maximum=100)]`."
        if "cursor" not in properties:
            yield f"{tool}: a list/search tool must take `cursor: Cursor = None` (sagemcp._pagination) to page on."


def _described(prop: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    return any(str(node.get("description") or "").strip() for node in _nodes(prop, root, depth=0))


def _has_maximum(prop: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    return any("maximum" in node or "exclusiveMaximum" in node for node in _nodes(prop, root, depth=0))


def _nodes(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Iterator[Mapping[str, Any]]:
    """`node` and the schemas it is made of (`anyOf`/`oneOf`/`allOf` branches, local `$ref` targets)."""
    yield node
    if depth > 8:
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
        if isinstance(target, Mapping):
            yield from _nodes(target, root, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key) or ():
            if isinstance(branch, Mapping):
                yield from _nodes(branch, root, depth + 1)


# -- auth, resources, base URL ----------------------------------------------------------


def _check_auth(cls: type[Connector]) -> Iterator[str]:
    name = cls.__qualname__
    schemes = list(cls.auth or ())
    if not schemes:
        yield f"{name}.auth is empty; list at least one scheme (NoAuth() for a service without credentials)."
    kinds: set[str] = set()
    for scheme in schemes:
        if not isinstance(scheme, AuthScheme):
            yield f"{name}.auth holds {scheme!r}, which is not an AuthScheme; use OAuth2, BearerToken, ApiKey, ..."
            continue
        label = f"{name}.auth {type(scheme).__name__}"
        if scheme.kind in kinds:
            yield f"{label}: two schemes of kind {scheme.kind!r}; a credential could not say which one it is for."
        kinds.add(scheme.kind)
        if isinstance(scheme, OAuth2):
            for attr in ("authorize_url", "token_url", "revoke_url"):
                url = getattr(scheme, attr)
                if attr == "revoke_url" and url is None:
                    continue
                if not url:
                    yield f"{label}: {attr} is empty; set the provider's OAuth {attr.replace('_', ' ')}."
                elif not _is_https(url):
                    yield f"{label}: {attr} {url!r} is not an absolute https:// URL; OAuth endpoints must use TLS."
        elif isinstance(scheme, ApiKey):
            if not scheme.query_param and not scheme.header:
                yield f"{label}: set header= (or query_param=) to say where the key goes."
            if "{token}" not in scheme.format:
                yield f"{label}: format {scheme.format!r} has no '{{token}}' placeholder; the key would never be sent."
        elif isinstance(scheme, BearerToken) and not scheme.header:
            yield f"{label}: header is empty; use the default 'Authorization'."


def _check_resources(cls: type[Connector]) -> Iterator[str]:
    for res in cls.resources:
        label = f"{cls.__qualname__} resource {res.uri!r}"
        problem = _uri_problem(res.uri)
        if problem:
            yield f"{label}: {problem}; use an absolute URI such as '{cls.info.id}://things/{{id}}'."
        if not res.name:
            yield f"{label}: the resource has no name; pass @resource(..., name='...')."


def _uri_problem(uri: str) -> str | None:
    if not uri or any(ch.isspace() for ch in uri):
        return "the URI is empty or contains whitespace"
    bare = _PLACEHOLDER_RE.sub("x", uri)
    if "{" in bare or "}" in bare:
        return "the URI has an unbalanced or invalid {placeholder}"
    parts = urlsplit(bare)
    if not parts.scheme or not _URI_SCHEME_RE.match(parts.scheme):
        return "the URI has no scheme"
    if not (parts.netloc or parts.path):
        return "the URI has nothing after the scheme"
    return None


def _check_base_url(cls: type[Connector]) -> Iterator[str]:
    name = cls.__qualname__
    url = cls.base_url
    if url:
        if not _is_https(url):
            yield f"{name}.base_url {url!r} is not an absolute https:// URL; upstream calls must use TLS."
        elif urlsplit(url).query or urlsplit(url).fragment:
            yield f"{name}.base_url {url!r} has a query or fragment; pass query parameters per request instead."
    elif cls.api_base_url.__func__ is Connector.api_base_url.__func__:  # type: ignore[attr-defined]
        yield (
            f"{name}.base_url is empty and api_base_url() is not overridden; set base_url, or override "
            "api_base_url(config, credential) to compute it from the tenant's configuration and credential."
        )


def _check_origins(cls: type[Connector]) -> Iterator[str]:
    """The hooks take (config, credential), and every declared credential origin is `https://host[:port]`."""
    name = cls.__qualname__
    for hook in ("api_base_url", "credential_origins"):
        try:
            inspect.signature(getattr(cls, hook)).bind(None, None)
        except TypeError:
            yield (
                f"{name}.{hook}() must take (config, credential): declare it as "
                f"`def {hook}(cls, config: BaseModel, credential: Credential | None)`."
            )
    origins: Any = cls.extra_origins
    if isinstance(origins, str) or not all(isinstance(origin, str) for origin in origins):
        yield f"{name}.extra_origins must be a tuple of origin strings, such as ('https://files.example.com',)."
        return
    for origin in origins:
        problem = _origin_problem(origin)
        if problem:
            yield f"{name}.extra_origins entry {origin!r} {problem}; declare origins as 'https://host[:port]'."
    if cls.credential_origins.__func__ is Connector.credential_origins.__func__:  # type: ignore[attr-defined]
        return
    try:
        config = cls.parse_config({})
    except ValueError:
        return  # the configuration has required fields: the hook can only be checked with a real one
    try:
        computed = cls.credential_origins(config, None)
    except Exception as exc:  # any failure here is the finding
        yield f"{name}.credential_origins(config, None) raised {type(exc).__name__}; it must accept credential None."
        return
    for origin in computed:
        problem = _origin_problem(origin)
        if problem:
            yield f"{name}.credential_origins() returned {origin!r}, which {problem}; return 'https://host[:port]'."


def _origin_problem(origin: str) -> str | None:
    parts = urlsplit(origin)
    if parts.scheme != "https" or not parts.hostname:
        return "is not an absolute https:// origin (a credential never travels in the clear)"
    if parts.username is not None or parts.password is not None:
        return "has a user name or password"
    if parts.path not in ("", "/") or parts.query or parts.fragment or origin.endswith(("?", "#")):
        return "has a path, query or fragment (an origin is only scheme, host and port)"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return "has an invalid port"
    return None


def _is_https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
