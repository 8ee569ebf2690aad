"""Check that a request a connector sends is one the vendor's API description allows.

`OpenAPIValidator.from_file(path)` reads an OpenAPI 3.0/3.1 or Swagger 2.0 description
(`.json`, `.json.gz`, `.yaml`; loaded once per process, so the 13 MB GitHub file costs
one parse; a `.json` name is read from `<name>.json.gz` when only that is stored, as is
`load_description(path)`, which returns the parsed document to adjust before building a
validator), and `validate_request(request)` finds the operation by method and path
template and checks the path parameters, the query string (unknown parameters are
errors) and the JSON or form body against the description's schemas. A mismatch
raises `ContractViolation`, an `AssertionError`, so it reads like any failed test.

OpenAPI schemas are turned into JSON Schema Draft 2020-12 lazily, one operation at a
time: local `$ref`s (nested, recursive) become `$defs`, OpenAPI 3.0 `nullable` and
Swagger's `x-nullable` become a `null` type, boolean `exclusiveMinimum` becomes
numeric, and Swagger's list-valued `items` becomes `anyOf`. Formats are not asserted.
Header and cookie parameters are not checked (authentication and client headers are
the transport's business).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

__all__ = ["ContractViolation", "OpenAPIValidator", "Operation", "load_description"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]+)\}")
_MAX_PROBLEMS = 20
_MESSAGE_LIMIT = 240
_SWAGGER_PARAM_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
)
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_ONE = (
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_DROPPED = frozenset(
    {"nullable", "x-nullable", "discriminator", "xml", "example", "externalDocs", "description", "title", "deprecated"}
)
_DELIMITERS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|", "spaceDelimited": " ", "pipeDelimited": "|"}

_cache: dict[tuple[str, int, int, tuple[str, ...]], OpenAPIValidator] = {}
_cache_lock = threading.Lock()


class ContractViolation(AssertionError):
    """A request the API description does not allow; the message lists every problem."""


@dataclass(frozen=True)
class Operation:
    """The described operation a request matched."""

    method: str
    path: str
    """The path template, as in the description (`/repos/{owner}/{repo}/issues`)."""
    operation_id: str | None
    path_params: dict[str, str]
    """Template parameter -> value taken from the request path (percent-decoded)."""
    deprecated: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The operation object of the description (for vendor extensions such as required scopes)."""


@dataclass(frozen=True)
class _Segment:
    literal: str | None = None
    names: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None

    @property
    def rank(self) -> int:
        """2 for a literal, 1 for a mixed segment like `{name}.json`, 0 for a bare `{name}`."""
        if self.literal is not None:
            return 2
        return 1 if self.regex is not None else 0

    def match(self, value: str) -> dict[str, str] | None:
        if self.literal is not None:
            return {} if value == self.literal else None
        if self.regex is None:
            return {self.names[0]: value} if value else None
        m = self.regex.fullmatch(value)
        return {self.names[int(k[1:])]: v for k, v in m.groupdict().items()} if m else None


@dataclass
class _Route:
    method: str
    template: str
    segments: tuple[_Segment, ...]
    item: Mapping[str, Any]
    op: Mapping[str, Any]
    params: list[Mapping[str, Any]] | None = None


def _parse_segment(text: str) -> _Segment:
    names = _PLACEHOLDER_RE.findall(text)
    if not names:
        return _Segment(literal=text)
    if len(names) == 1 and text == "{" + names[0] + "}":
        return _Segment(names=(names[0],))
    pattern, pos = "", 0
    for i, m in enumerate(_PLACEHOLDER_RE.finditer(text)):
        pattern += re.escape(text[pos : m.start()]) + f"(?P<g{i}>.+?)"
        pos = m.end()
    return _Segment(names=tuple(names), regex=re.compile(pattern + re.escape(text[pos:])))


def _split(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


class OpenAPIValidator:
    """Validates `httpx.Request`s against one OpenAPI 3.x or Swagger 2.0 description."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        source: str = "<description>",
        multi_segment_params: Collection[str] = ("path",),
    ) -> None:
        """`multi_segment_params` names the last-segment path parameters that may hold slashes
        (GitHub's contents `{path}`); any other parameter matches exactly one segment, so a
        request to an undescribed sub-path never matches its parent operation."""
        if "discoveryVersion" in document:
            raise ValueError(f"{source} is a Google discovery document; only OpenAPI 3.x and Swagger 2.0 are supported")
        version = str(document.get("openapi") or document.get("swagger") or "")
        if not (version.startswith("3.") or version.startswith("2.")):
            raise ValueError(f"{source} is not an OpenAPI 3.x or Swagger 2.0 description (no openapi/swagger field)")
        self.document = document
        self.source = source
        self.version = version
        self.swagger2 = version.startswith("2.")
        self._schemas = _SchemaConverter(document, keep_ref_siblings=version.startswith("3.1"))
        self._validators: dict[int, tuple[Any, Draft202012Validator]] = {}
        self._param_schemas: dict[tuple[int, bool], tuple[Any, Mapping[str, Any] | None]] = {}
        self._lock = threading.Lock()
        self._index: dict[tuple[str, int], list[_Route]] = {}
        self._greedy: dict[str, list[_Route]] = {}
        self._count = 0
        for template, item in (document.get("paths") or {}).items():
            if not isinstance(item, Mapping):
                continue
            item = self._schemas.resolve(item)
            segments = tuple(_parse_segment(s) for s in _split(template))
            for method in _METHODS:
                op = item.get(method)
                if not isinstance(op, Mapping):
                    continue
                route = _Route(method.upper(), template, segments, item, op)
                self._index.setdefault((route.method, len(segments)), []).append(route)
                if segments and segments[-1].rank == 0 and segments[-1].names[0] in multi_segment_params:
                    self._greedy.setdefault(route.method, []).append(route)
                self._count += 1
        self._prefixes = self._server_prefixes()
        self._query_auth = self._auth_query_names()

    def __repr__(self) -> str:
        return f"<OpenAPIValidator {self.source} ({self.version}, {self._count} operations)>"

    def __len__(self) -> int:
        return self._count

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, multi_segment_params: Collection[str] = ("path",)
    ) -> OpenAPIValidator:
        """The validator for a `.json`, `.json.gz` or `.yaml`/`.yml` file; parsed once per process.

        A `.json` path that does not exist is read from the `.json.gz` file beside it.
        """
        resolved = _locate(Path(path)).resolve()
        stat = resolved.stat()
        multi = tuple(sorted(multi_segment_params))
        key = (str(resolved), stat.st_mtime_ns, stat.st_size, multi)
        with _cache_lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = cls(_load(resolved), source=resolved.name, multi_segment_params=multi)
        return found

    def find_operation(self, method: str, path: str, *, base_path_prefix: str | None = None) -> Operation | None:
        """The operation serving `method` and (percent-encoded) `path`, or None."""
        found = self._find(method.upper(), path, base_path_prefix)
        return None if found is None else self._operation(*found)

    def validate_request(self, request: httpx.Request, *, base_path_prefix: str | None = None) -> Operation:
        """The operation `request` calls; `ContractViolation` naming each problem if it breaks the description.

        `base_path_prefix` replaces the description's server path / basePath (it may hold
        `{placeholders}`, e.g. "/ex/jira/{cloudid}").
        """
        method = request.method.upper()
        raw_path = request.url.raw_path.split(b"?", 1)[0].decode("ascii", errors="replace")
        found = self._find(method, raw_path, base_path_prefix)
        if found is None:
            raise ContractViolation(self._no_match(method, raw_path, base_path_prefix))
        route, path_params = found
        operation = self._operation(route, path_params)
        problems: list[str] = []
        params = self._parameters(route)
        self._check_path(params, path_params, problems)
        self._check_query(params, request, problems)
        self._check_body(route, params, request, problems)
        if problems:
            where = f"{method} {request.url.path}"
            label = f"{route.op.get('operationId') or 'no operationId'}, {route.method} {route.template}"
            listing = "\n".join(f"  - {_short(p)}" for p in problems[:_MAX_PROBLEMS])
            more = f"\n  ... and {len(problems) - _MAX_PROBLEMS} more" if len(problems) > _MAX_PROBLEMS else ""
            raise ContractViolation(f"{where} ({label}) does not match {self.source}:\n{listing}{more}")
        return operation

    # -- matching --------------------------------------------------------------------------

    def _server_prefixes(self) -> list[list[_Segment]]:
        paths: list[str] = []
        if self.swagger2:
            paths.append(str(self.document.get("basePath") or ""))
        else:
            for server in self.document.get("servers") or ():
                if not isinstance(server, Mapping):
                    continue
                url = str(server.get("url") or "")
                for name, var in (server.get("variables") or {}).items():
                    if isinstance(var, Mapping) and "default" in var:
                        url = url.replace("{" + name + "}", str(var["default"]))
                paths.append(urlsplit(url).path if "://" in url else url)
        prefixes = {tuple(_split(p)) for p in paths} or {()}
        return [[_parse_segment(s) for s in p] for p in sorted(prefixes, key=len, reverse=True)]

    def _auth_query_names(self) -> frozenset[str]:
        schemes = (
            self.document.get("securityDefinitions")
            if self.swagger2
            else (self.document.get("components") or {}).get("securitySchemes")
        )
        names = set()
        for scheme in (schemes or {}).values():
            if isinstance(scheme, Mapping) and scheme.get("type") == "apiKey" and scheme.get("in") == "query":
                names.add(str(scheme.get("name")))
        return frozenset(names)

    def _find(self, method: str, raw_path: str, prefix: str | None) -> tuple[_Route, dict[str, str]] | None:
        segments = [unquote(s) for s in _split(raw_path)]
        prefixes = [[_parse_segment(s) for s in _split(prefix)]] if prefix is not None else self._prefixes
        for candidate in prefixes:
            rest = _strip_prefix(segments, candidate)
            if rest is not None:
                found = self._match(method, rest)
                if found is not None:
                    return found
        return None

    def _match(self, method: str, segments: list[str]) -> tuple[_Route, dict[str, str]] | None:
        best: tuple[tuple[int, ...], _Route, dict[str, str]] | None = None
        for route in self._index.get((method, len(segments)), ()):
            params = _match_segments(route.segments, segments)
            if params is not None:
                score = tuple(s.rank for s in route.segments)
                if best is None or score > best[0]:
                    best = (score, route, params)
        if best is not None:
            return best[1], best[2]
        # A last `{param}` may hold slashes (GitHub's contents `{path}`, branch names).
        for route in sorted(self._greedy.get(method, ()), key=lambda r: -len(r.segments)):
            n = len(route.segments)
            if n >= len(segments):
                continue
            params = _match_segments(route.segments[:-1], segments[: n - 1])
            if params is not None:
                params[route.segments[-1].names[0]] = "/".join(segments[n - 1 :])
                return route, params
        return None

    def _no_match(self, method: str, raw_path: str, prefix: str | None) -> str:
        path = unquote(raw_path)
        text = f"no operation in the description {self.source} matches {method} {path}"
        others = [m for m in _METHODS if m.upper() != method and self._find(m.upper(), raw_path, prefix)]
        if others:
            text += f" (the path is described for {', '.join(m.upper() for m in others)})"
        segments = [unquote(s) for s in _split(raw_path)]
        prefixes = [[_parse_segment(s) for s in _split(prefix)]] if prefix is not None else self._prefixes
        if not any(_strip_prefix(segments, p) is not None for p in prefixes):
            bases = ", ".join("/" + "/".join(s.literal or "{" + s.names[0] + "}" for s in p) for p in prefixes)
            text += f"; the path does not start with the base path ({bases}): pass base_path_prefix="
        return text

    def _operation(self, route: _Route, path_params: dict[str, str]) -> Operation:
        op_id = route.op.get("operationId")
        return Operation(
            method=route.method,
            path=route.template,
            operation_id=str(op_id) if op_id is not None else None,
            path_params=path_params,
            deprecated=bool(route.op.get("deprecated")),
            raw=route.op,
        )

    # -- parameters ------------------------------------------------------------------------

    def _parameters(self, route: _Route) -> list[Mapping[str, Any]]:
        if route.params is None:
            merged: dict[tuple[str, str], Mapping[str, Any]] = {}
            for raw in [*(route.item.get("parameters") or ()), *(route.op.get("parameters") or ())]:
                param = self._schemas.resolve(raw)
                if isinstance(param, Mapping) and "name" in param and "in" in param:
                    merged[(str(param["name"]), str(param["in"]))] = param
            route.params = list(merged.values())
        return route.params

    def _param_schema(self, param: Mapping[str, Any], *, loose: bool = False) -> Mapping[str, Any] | None:
        """The schema of a non-body parameter; `loose` drops the type of Swagger string fields sent as JSON."""
        key = (id(param), loose)
        cached = self._param_schemas.get(key)
        if cached is not None:
            return cached[1]
        schema: Mapping[str, Any] | None
        if "schema" in param:
            schema = param["schema"] if isinstance(param["schema"], Mapping) else None
        elif self.swagger2:
            schema = {k: param[k] for k in _SWAGGER_PARAM_KEYS if k in param}
            if loose and schema.get("type") == "string":
                # A form field declared as a string is any JSON value in a JSON body (Slack's `blocks`).
                schema = {}
        else:
            schema = None  # OAS3 `content` parameters hold serialized JSON: not checked
        with self._lock:
            self._param_schemas[key] = (param, schema)  # keeps `param` alive, so its id stays its own
        return schema

    def _check_path(self, params: list[Mapping[str, Any]], values: dict[str, str], problems: list[str]) -> None:
        declared = {str(p["name"]): p for p in params if p.get("in") == "path"}
        for name, raw in values.items():
            param = declared.get(name)
            if param is not None:
                self._check_value(f"path parameter {name!r}", param, [raw], problems)

    def _check_query(self, params: list[Mapping[str, Any]], request: httpx.Request, problems: list[str]) -> None:
        given: dict[str, list[str]] = {}
        for name, value in request.url.params.multi_items():
            given.setdefault(name, []).append(value)
        declared = [p for p in params if p.get("in") == "query"]
        self._check_fields("query parameter", declared, given, problems, extra_allowed=self._query_auth)

    def _check_fields(
        self,
        kind: str,
        declared: list[Mapping[str, Any]],
        given: Mapping[str, list[Any]],
        problems: list[str],
        *,
        extra_allowed: Iterable[str] = (),
        loose: bool = False,
    ) -> None:
        """Unknown, missing and ill-typed fields of the query string or a `formData` body."""
        by_name = {str(p["name"]): p for p in declared}
        allowed = set(by_name) | set(extra_allowed)
        for param in declared:  # OAS3 objects exploded into the query: their properties are names too
            schema = self._param_schema(param)
            if schema is not None and param.get("explode", param.get("style", "form") == "form"):
                resolved = self._schemas.resolve(schema)
                if resolved.get("type") == "object" and isinstance(resolved.get("properties"), Mapping):
                    allowed.update(resolved["properties"])
        deep = {n for n, p in by_name.items() if p.get("style") == "deepObject"}
        for name in given:
            if name in allowed or name.split("[", 1)[0] in deep:
                continue
            known = ", ".join(sorted(by_name)) or "none"
            problems.append(f"unknown {kind} {name!r}; the operation takes: {known}")
        for name, param in by_name.items():
            if name not in given:
                if param.get("required"):
                    problems.append(f"missing required {kind} {name!r}")
                continue
            self._check_value(f"{kind} {name!r}", param, given[name], problems, loose=loose)

    def _check_value(
        self, where: str, param: Mapping[str, Any], raws: list[Any], problems: list[str], *, loose: bool = False
    ) -> None:
        raw_schema = self._param_schema(param, loose=loose)
        if raw_schema is None:
            return
        schema = self._schemas.build(raw_schema)
        validator = self._validator(raw_schema, schema)
        types = _types(schema, schema)
        if "array" in types and (types == {"array"} or len(raws) > 1 or not isinstance(raws[0], str)):
            style = str(param.get("collectionFormat") or param.get("style") or "csv")
            value: Any = self._array(schema, raws, _DELIMITERS.get(style, ","))
        elif len(raws) > 1:
            problems.append(f"{where} is given {len(raws)} times but takes one value")
            return
        else:
            value = _coerce(raws[0], schema, schema, validator)
        problems.extend(f"{where}{msg}" for msg in _errors(validator, value))

    def _array(self, schema: Any, raws: list[Any], delimiter: str) -> list[Any]:
        """Repeated (`a=1&a=2`) or delimited (`a=1,2`) values as a list of typed items."""
        items = _array_items(schema, schema)
        item_schema = items if isinstance(items, bool) else {**items, "$defs": schema.get("$defs", {})}
        item_validator = Draft202012Validator(item_schema)
        values: list[Any] = []
        for raw in raws:
            if isinstance(raw, list):
                values.extend(raw)
            elif isinstance(raw, str) and len(raws) == 1:
                values.extend(raw.split(delimiter) if raw else [])
            else:
                values.append(raw)
        return [_coerce(v, items, schema, item_validator) for v in values]

    # -- bodies ----------------------------------------------------------------------------

    def _check_body(
        self, route: _Route, params: list[Mapping[str, Any]], request: httpx.Request, problems: list[str]
    ) -> None:
        body = _read(request)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if self.swagger2:
            self._check_swagger_body(route, params, body, media, problems)
            return
        raw_rb = route.op.get("requestBody")
        request_body = self._schemas.resolve(raw_rb) if raw_rb is not None else None
        if not isinstance(request_body, Mapping):
            if body:
                problems.append(f"the request sends a body ({len(body)} bytes) but the operation takes none")
            return
        if not body:
            if request_body.get("required"):
                problems.append("the request body is required but none was sent")
            return
        content: Mapping[str, Any] = request_body.get("content") or {}
        chosen = _pick_media(media, list(content))
        if chosen is None:
            accepted = ", ".join(content) or "none"
            problems.append(f"Content-Type {media or '(none)'!r} is not accepted; the operation takes: {accepted}")
            return
        schema = (content[chosen] or {}).get("schema")
        if not isinstance(schema, Mapping | bool):
            return
        if _is_json(media or chosen):
            data = _parse_json(body, problems)
            if data is not _INVALID:
                self._validate("body", schema, data, problems)
        elif (media or chosen) == "application/x-www-form-urlencoded":
            form = _parse_form(body)
            resolved = self._schemas.resolve(schema) if isinstance(schema, Mapping) else {}
            props = resolved.get("properties") if isinstance(resolved, Mapping) else None
            fields = [
                {"name": k, "in": "formData", "schema": v} for k, v in (props or {}).items() if isinstance(v, Mapping)
            ]
            values = {}
            for f in fields:
                if f["name"] in form:
                    values[f["name"]] = self._form_value(f, form[f["name"]])
            for k, v in form.items():
                values.setdefault(k, v[0] if len(v) == 1 else v)
            self._validate("form body", schema, values, problems)

    def _form_value(self, field_: Mapping[str, Any], raws: list[str]) -> Any:
        schema = self._schemas.build(field_["schema"])
        if "array" in _types(schema, schema):
            return self._array(schema, raws, ",")
        validator = self._validator(field_["schema"], schema)
        return _coerce(raws[0], schema, schema, validator) if len(raws) == 1 else raws

    def _check_swagger_body(
        self,
        route: _Route,
        params: list[Mapping[str, Any]],
        body: bytes,
        media: str,
        problems: list[str],
    ) -> None:
        body_param = next((p for p in params if p.get("in") == "body"), None)
        form_params = [p for p in params if p.get("in") == "formData"]
        consumes = list(route.op.get("consumes") or self.document.get("consumes") or ())
        if not body:
            if body_param is not None and body_param.get("required"):
                problems.append(f"the request body ({body_param.get('name')!r}) is required but none was sent")
            for p in form_params:
                if p.get("required"):
                    problems.append(f"missing required form field {p['name']!r}")
            return
        if body_param is None and not form_params:
            problems.append(f"the request sends a body ({len(body)} bytes) but the operation takes none")
            return
        if consumes and _pick_media(media, consumes) is None:
            problems.append(
                f"Content-Type {media or '(none)'!r} is not accepted; the operation takes: {', '.join(consumes)}"
            )
        if body_param is not None:
            data = _parse_json(body, problems)
            schema = body_param.get("schema")
            if data is not _INVALID and isinstance(schema, Mapping | bool):
                self._validate("body", schema, data, problems)
            return
        if media == "multipart/form-data":
            return
        if _is_json(media):
            # Some form APIs (Slack) also take the same fields as a JSON object.
            data = _parse_json(body, problems)
            if data is _INVALID:
                return
            if not isinstance(data, dict):
                problems.append(f"the JSON body must be an object of form fields, not {type(data).__name__}")
                return
            json_fields = {k: [v] for k, v in data.items()}
            self._check_fields("form field", form_params, json_fields, problems, loose=True)
            return
        self._check_fields("form field", form_params, _parse_form(body), problems)

    def _validate(self, where: str, raw_schema: Mapping[str, Any] | bool, value: Any, problems: list[str]) -> None:
        schema = self._schemas.build(raw_schema)
        validator = self._validator(raw_schema, schema)
        problems.extend(f"{where}{msg}" for msg in _errors(validator, value))

    def _validator(self, raw_schema: Any, schema: Mapping[str, Any] | bool) -> Draft202012Validator:
        # Keyed by the description's own schema object, kept alive alongside so its id stays unique.
        key = id(raw_schema)
        with self._lock:
            found = self._validators.get(key)
            if found is None:
                found = self._validators[key] = (raw_schema, Draft202012Validator(schema))
        return found[1]


# -- schema conversion --------------------------------------------------------------------


class _SchemaConverter:
    """OpenAPI / Swagger schemas as self-contained JSON Schema 2020-12, `$ref`s gathered into `$defs`."""

    def __init__(self, document: Mapping[str, Any], *, keep_ref_siblings: bool) -> None:
        self.document = document
        self.keep_ref_siblings = keep_ref_siblings
        self._names: dict[str, str] = {}
        self._converted: dict[str, tuple[Any, frozenset[str]]] = {}
        self._built: dict[int, tuple[Any, Any]] = {}
        self._lock = threading.RLock()

    def resolve(self, node: Any) -> Any:
        """`node` with any chain of local `$ref`s followed (for parameters, bodies, path items)."""
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#"):
                return {}
            seen.add(ref)
            node = self.pointer(ref)
        return node

    def pointer(self, ref: str) -> Any:
        target: Any = self.document
        for part in ref[1:].lstrip("/").split("/") if ref not in ("#", "#/") else ():
            key = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(target, Mapping):
                target = target.get(key)
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                return {}
        return target if target is not None else {}

    def build(self, schema: Mapping[str, Any] | bool) -> Any:
        """A JSON Schema for `schema` holding every definition it reaches in `$defs`."""
        with self._lock:
            found = self._built.get(id(schema))
            if found is not None:
                return found[1]
            refs: set[str] = set()
            root = self._node(schema, refs)
            defs: dict[str, Any] = {}
            pending = sorted(refs)
            while pending:
                ref = pending.pop()
                name = self._name(ref)
                if name in defs:
                    continue
                converted, deps = self._definition(ref)
                defs[name] = converted
                pending.extend(d for d in deps if self._name(d) not in defs)
            if defs:
                root = {"allOf": [root], "$defs": defs} if isinstance(root, bool) else {**root, "$defs": defs}
            self._built[id(schema)] = (schema, root)  # keeps `schema` alive, so its id stays its own
            return root

    def _definition(self, ref: str) -> tuple[Any, frozenset[str]]:
        found = self._converted.get(ref)
        if found is None:
            refs: set[str] = set()
            converted = self._node(self.pointer(ref), refs)
            found = self._converted[ref] = (converted, frozenset(refs))
        return found

    def _name(self, ref: str) -> str:
        name = self._names.get(ref)
        if name is None:
            base = re.sub(r"[^A-Za-z0-9_.-]", "_", ref.lstrip("#/")) or "root"
            name = base
            taken = set(self._names.values())
            n = 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            self._names[ref] = name
        return name

    def _node(self, node: Any, refs: set[str]) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            return {}
        nullable = node.get("nullable") is True or node.get("x-nullable") is True
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref.startswith("#"):
                refs.add(ref)
                out: dict[str, Any] = {"$ref": f"#/$defs/{self._name(ref)}"}
            else:
                out = {}  # a reference to another file: not followed, anything passes
            if self.keep_ref_siblings:
                rest = {k: v for k, v in node.items() if k != "$ref"}
                out.update(self._node(rest, refs) if rest else {})
            return _nullable(out) if nullable else out
        out = {}
        for key, value in node.items():
            if key in _DROPPED or key.startswith("x-"):
                continue
            if key in _SCHEMA_MAPS and isinstance(value, Mapping):
                out[key] = {k: self._node(v, refs) for k, v in value.items()}
            elif key == "items" and isinstance(value, list):
                # Swagger 2 has no tuples; descriptions that list item schemas (Slack) mean "any of these".
                branches = [self._node(v, refs) for v in value]
                if branches:
                    out["items"] = branches[0] if len(branches) == 1 else {"anyOf": branches}
            elif key == "items" or (key in _SCHEMA_ONE and isinstance(value, Mapping | bool)):
                out[key] = self._node(value, refs)
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self._node(v, refs) for v in value]
            elif (
                (key == "type" and value == "file")
                or (key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool))
                or (key == "required" and not isinstance(value, list))
            ):
                continue
            else:
                out[key] = value
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if node.get(exclusive) is True and bound in out:
                out[exclusive] = out.pop(bound)
        properties = node.get("properties")
        if isinstance(out.get("required"), list) and isinstance(properties, Mapping):
            # readOnly properties are never sent in requests, so they cannot be required there.
            read_only = {k for k, v in properties.items() if isinstance(v, Mapping) and v.get("readOnly") is True}
            if read_only:
                out["required"] = [r for r in out["required"] if r not in read_only]
        return _nullable(out) if nullable else out


def _compiles(pattern: Any) -> bool:
    try:
        re.compile(str(pattern))
    except re.error:
        return False
    return True


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if any(k in schema for k in ("$ref", "allOf", "anyOf", "oneOf", "not")):
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    if "type" in out:
        types = [out["type"]] if isinstance(out["type"], str) else list(out["type"])
        if "null" not in types:
            out["type"] = [*types, "null"]
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


# -- values -------------------------------------------------------------------------------


_INVALID = object()


def _resolve_local(schema: Any, root: Any) -> Any:
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 32:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/") or not isinstance(root, Mapping):
            return {}
        schema = (root.get("$defs") or {}).get(ref[len("#/$defs/") :], {})
        seen += 1
    return schema


def _array_items(schema: Any, root: Any, depth: int = 0) -> Any:
    """The `items` schema of the array branch of `schema` ({} when there is none)."""
    schema = _resolve_local(schema, root)
    if not isinstance(schema, Mapping) or depth > 16:
        return {}
    if "items" in schema:
        return _resolve_local(schema["items"], root)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key) or ():
            found = _array_items(branch, root, depth + 1)
            if found != {}:
                return found
    return {}


def _types(schema: Any, root: Any, depth: int = 0) -> set[str]:
    """The JSON types a schema admits, as far as can be told (empty: unknown)."""
    schema = _resolve_local(schema, root)
    if not isinstance(schema, Mapping) or depth > 16:
        return set()
    found: set[str] = set()
    declared = schema.get("type")
    if isinstance(declared, str):
        found.add(declared)
    elif isinstance(declared, list):
        found.update(str(t) for t in declared)
    for value in schema.get("enum") or ([schema["const"]] if "const" in schema else []):
        found.add(_json_type(value))
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key) or ():
            found |= _types(branch, root, depth + 1)
    return found


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object" if isinstance(value, dict) else "array"


def _coerce(raw: Any, schema: Any, root: Any, validator: Draft202012Validator) -> Any:
    """A string from a URL or form as the typed value the schema wants (the first reading that validates)."""
    if not isinstance(raw, str):
        return raw
    types = _types(schema, root)
    candidates: list[Any] = []
    if types & {"integer", "number"} and re.fullmatch(r"[+-]?\d+", raw):
        candidates.append(int(raw))
    if "number" in types:
        try:
            number = float(raw)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                candidates.append(number)
    if "boolean" in types and raw in ("true", "false"):
        candidates.append(raw == "true")
    if "null" in types and raw in ("", "null"):
        candidates.append(None)
    if "string" in types or not types or not candidates:
        candidates.append(raw)
    for candidate in candidates:
        if validator.is_valid(candidate):
            return candidate
    return candidates[0]


def _errors(validator: Draft202012Validator, value: Any) -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]):
        chosen: ValidationError = error
        while chosen.context:
            # Skip the `null` branch a nullable schema was wrapped in: the other branch says what is wrong.
            branches = [e for e in chosen.context if not (e.validator == "type" and e.validator_value == "null")]
            chosen = best_match(branches or chosen.context) or chosen
            if chosen.validator not in ("anyOf", "oneOf"):
                break
        path = "".join(f"/{p}" for p in chosen.absolute_path)
        out.append(f"{path}: {chosen.message}" if path else f": {chosen.message}")
    return out


def _short(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _read(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        try:
            return request.read()
        except Exception as exc:
            raise TypeError("the request body is a stream: `await request.aread()` before validating it") from exc


def _parse_json(body: bytes, problems: list[str]) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        problems.append(f"the body is not valid JSON ({exc})")
        return _INVALID


def _parse_form(body: bytes) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        form.setdefault(name, []).append(value)
    return form


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def _pick_media(media: str, accepted: list[str]) -> str | None:
    """The declared media type serving `media` (exact, then `type/*`, then `*/*`)."""
    lowered = {a.split(";")[0].strip().lower(): a for a in accepted}
    if media in lowered:
        return lowered[media]
    if not media:
        return None
    wildcard = media.split("/")[0] + "/*"
    if wildcard in lowered:
        return lowered[wildcard]
    if _is_json(media):
        for key, original in lowered.items():
            if _is_json(key):
                return original
    return lowered.get("*/*")


def _strip_prefix(segments: list[str], prefix: list[_Segment]) -> list[str] | None:
    if len(segments) < len(prefix):
        return None
    if _match_segments(prefix, segments[: len(prefix)]) is None:
        return None
    return segments[len(prefix) :]


def _match_segments(pattern: Iterable[_Segment], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for seg, value in zip(pattern, segments, strict=False):
        found = seg.match(value)
        if found is None:
            return None
        params.update(found)
    return params


def load_description(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed API description at `path` (`.json`, `.json.gz`, `.yaml`/`.yml`), a fresh copy per call.

    A `.json` path that does not exist is read from `<path>.gz` beside it, so a test names a
    description the same way whether it is stored compressed or not.
    """
    return _load(_locate(Path(path)))


def _locate(path: Path) -> Path:
    """`path`, or the `.gz` file beside it when only that exists."""
    if path.exists():
        return path
    packed = path.with_name(path.name + ".gz")
    if packed.exists():
        return packed
    raise FileNotFoundError(
        f"no API description at {path} (nor {packed.name} beside it): check the path and that the file is checked out"
    )


def _load(path: Path) -> dict[str, Any]:
    name = path.name.lower()
    if name.endswith((".yaml", ".yml")):
        import yaml

        with path.open("rb") as fh:
            data = yaml.safe_load(fh)
    elif name.endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            data = json.load(fh)
    else:
        with path.open("rb") as fh:
            data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold an object")
    return data
