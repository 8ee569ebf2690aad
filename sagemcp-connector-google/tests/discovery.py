"""A request validator for Google Discovery documents, the format Google describes its APIs in.

`sagemcp.testing.OpenAPIValidator` reads OpenAPI and Swagger only; Google publishes Discovery
documents (`specs/google/*.json`). `DiscoveryValidator(paths).validate_request(request)` finds the
method by HTTP method, host and path (`rootUrl` + `servicePath` + the method's `flatPath`, or its
media-upload path), then checks it the way the description allows:

- path parameters against their `pattern`, query parameters against the method's and the API's
  common parameters (an unknown name, a missing required one, a repeated non-repeated one, a
  value of the wrong type or outside its `enum` fails);
- the `Authorization: Bearer` header and the body's `Content-Type` (JSON, or `multipart/related`
  with a JSON first part for a media upload);
- the JSON body against the method's `request` schema, converted to JSON Schema with
  `additionalProperties: false` wherever the schema lists properties, so an unknown field fails.

`schema_validator(api, name)` validates response fixtures against a response schema the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from jsonschema import Draft202012Validator

from sagemcp.testing import ContractViolation, load_description

__all__ = ["DiscoveryValidator", "Method"]

_PLACEHOLDER_RE = re.compile(r"\{\+?([^{}]+)\}")


@dataclass(frozen=True)
class Method:
    """The described method a request matched."""

    id: str
    api: str
    http_method: str
    template: str
    path_params: dict[str, str]
    scopes: tuple[str, ...]
    upload: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class _Route:
    api: str
    root: httpx.URL
    method: Mapping[str, Any]
    template: str
    segments: list[re.Pattern[str] | str]
    names: list[list[str]]
    upload: bool


def _compile(template: str) -> tuple[list[re.Pattern[str] | str], list[list[str]]]:
    segments: list[re.Pattern[str] | str] = []
    names: list[list[str]] = []
    for part in template.strip("/").split("/"):
        found = _PLACEHOLDER_RE.findall(part)
        if not found:
            segments.append(part)
            names.append([])
            continue
        pattern, pos = "", 0
        for i, match in enumerate(_PLACEHOLDER_RE.finditer(part)):
            pattern += re.escape(part[pos : match.start()]) + f"(?P<g{i}>[^/]+?)"
            pos = match.end()
        segments.append(re.compile(pattern + re.escape(part[pos:]) + "$"))
        names.append(found)
    return segments, names


def _walk(resource: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from (resource.get("methods") or {}).values()
    for child in (resource.get("resources") or {}).values():
        yield from _walk(child)


class DiscoveryValidator:
    """Validates `httpx.Request`s against a set of Google Discovery documents."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.routes: list[_Route] = []
        for path in paths:
            document = load_description(path)
            api = str(document["name"])
            self.documents[api] = document
            root = str(document["rootUrl"])
            for method in _walk(document):
                template = str(document.get("servicePath") or "") + str(method.get("flatPath") or method["path"])
                segments, names = _compile(template)
                self.routes.append(_Route(api, httpx.URL(root), method, template, segments, names, False))
                upload = ((method.get("mediaUpload") or {}).get("protocols") or {}).get("simple")
                if upload:
                    segments, names = _compile(str(upload["path"]))
                    self.routes.append(_Route(api, httpx.URL(root), method, str(upload["path"]), segments, names, True))
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}

    def __len__(self) -> int:
        return len({r.method["id"] for r in self.routes})

    # -- matching ------------------------------------------------------------------------

    def find(self, method: str, url: httpx.URL) -> tuple[_Route, dict[str, str]] | None:
        segments = [s for s in url.raw_path.split(b"?", 1)[0].decode("ascii").strip("/").split("/")]
        best: tuple[int, _Route, dict[str, str]] | None = None
        for route in self.routes:
            if route.method["httpMethod"] != method or route.root.host != url.host or route.root.scheme != url.scheme:
                continue
            if len(route.segments) != len(segments):
                continue
            params: dict[str, str] = {}
            literal = 0
            for expected, names, actual in zip(route.segments, route.names, segments, strict=True):
                if isinstance(expected, str):
                    if expected != actual:
                        break
                    literal += 1
                    continue
                match = expected.match(actual)
                if match is None:
                    break
                for i, name in enumerate(names):
                    params[name] = unquote(match.group(f"g{i}"))
            else:
                if best is None or literal > best[0]:
                    best = (literal, route, params)
        return (best[1], best[2]) if best else None

    def validate_request(self, request: httpx.Request) -> Method:
        """The method `request` calls; `ContractViolation` listing every problem if the description forbids it."""
        found = self.find(request.method, request.url)
        where = f"{request.method} {request.url.copy_with(query=None)}"
        if found is None:
            raise ContractViolation(f"no method of the Google discovery documents matches {where}")
        route, path_params = found
        method = route.method
        problems: list[str] = []
        declared = dict(self.documents[route.api].get("parameters") or {})
        declared.update(method.get("parameters") or {})
        for name, value in path_params.items():
            spec = declared.get(name) or {}
            if spec.get("location") != "path":
                problems.append(f"path parameter {name!r} is not declared")
            else:
                self._check_value(f"path parameter {name!r}", spec, value, problems)
        given: dict[str, list[str]] = {}
        for name, value in request.url.params.multi_items():
            given.setdefault(name, []).append(value)
        for name, values in given.items():
            spec = declared.get(name)
            if spec is None or spec.get("location") != "query":
                known = sorted(k for k, v in declared.items() if v.get("location") == "query")
                problems.append(f"unknown query parameter {name!r}; {method['id']} takes: {', '.join(known)}")
                continue
            if len(values) > 1 and not spec.get("repeated"):
                problems.append(f"query parameter {name!r} is not repeated but was given {len(values)} times")
            for value in values:
                self._check_value(f"query parameter {name!r}", spec, value, problems)
        for name, spec in declared.items():
            if spec.get("required") and spec.get("location") == "query" and name not in given:
                problems.append(f"missing required query parameter {name!r}")
        if route.upload and given.get("uploadType") not in (["multipart"], ["media"]):
            problems.append("a media upload needs uploadType=multipart or media")
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            problems.append("no `Authorization: Bearer <token>` header")
        self._check_body(route, request, problems)
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems[:20])
            raise ContractViolation(f"{where} ({method['id']}) does not match its discovery document:\n{listing}")
        return Method(
            id=str(method["id"]),
            api=route.api,
            http_method=str(method["httpMethod"]),
            template=route.template,
            path_params=path_params,
            scopes=tuple(method.get("scopes") or ()),
            upload=route.upload,
            raw=method,
        )

    # -- values --------------------------------------------------------------------------

    @staticmethod
    def _check_value(where: str, spec: Mapping[str, Any], value: str, problems: list[str]) -> None:
        kind = spec.get("type")
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                problems.append(f"{where} must be an integer, got {value!r}")
                return
            number = int(value)
            if "minimum" in spec and number < int(spec["minimum"]):
                problems.append(f"{where} is below its minimum {spec['minimum']}")
            if "maximum" in spec and number > int(spec["maximum"]):
                problems.append(f"{where} is above its maximum {spec['maximum']}")
        elif kind == "boolean" and value not in ("true", "false"):
            problems.append(f"{where} must be true or false, got {value!r}")
        if "enum" in spec and value not in spec["enum"]:
            problems.append(f"{where} must be one of {spec['enum']}, got {value!r}")
        pattern = spec.get("pattern")
        if isinstance(pattern, str) and not re.search(pattern, value):
            problems.append(f"{where} {value!r} does not match {pattern!r}")

    def _check_body(self, route: _Route, request: httpx.Request, problems: list[str]) -> None:
        body = request.content
        ref = (route.method.get("request") or {}).get("$ref")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if route.upload:
            if content_type != "multipart/related":
                problems.append(f"a multipart upload must be multipart/related, not {content_type or 'none'}")
                return
            head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
            message = message_from_bytes(head + body, policy=HTTP)
            parts = list(message.iter_parts()) if message.is_multipart() else []
            if len(parts) != 2 or parts[0].get_content_type() != "application/json":
                problems.append("a multipart upload has two parts: the JSON metadata, then the media")
                return
            accept = (route.method.get("mediaUpload") or {}).get("accept") or ["*/*"]
            media = parts[1].get_content_type()
            if not any(a == "*/*" or a == media or (a.endswith("/*") and media.startswith(a[:-1])) for a in accept):
                problems.append(f"the media type {media} is not accepted ({', '.join(accept)})")
            metadata = parts[0].get_payload(decode=True)
            assert isinstance(metadata, bytes)
            self._check_json(route.api, ref, metadata, problems)
            return
        if not body:
            return
        if ref is None:
            problems.append(f"{route.method['id']} takes no request body, but one was sent")
            return
        if content_type != "application/json":
            problems.append(f"the body must be application/json, not {content_type or 'none'}")
        self._check_json(route.api, ref, body, problems)

    def _check_json(self, api: str, ref: str | None, body: bytes, problems: list[str]) -> None:
        try:
            value = json.loads(body)
        except ValueError as exc:
            problems.append(f"the body is not JSON ({exc})")
            return
        if ref is None:
            return
        validator = self.schema_validator(api, ref)
        for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))[:20]:
            path = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"body /{path}: {error.message[:300]}")

    def schema_validator(self, api: str, name: str) -> Draft202012Validator:
        """A JSON Schema validator for the schema `name` of `api` (unknown properties refused)."""
        key = (api, name)
        if key not in self._validators:
            schemas = self.documents[api].get("schemas") or {}
            defs = {schema_name: _convert(schema) for schema_name, schema in schemas.items()}
            self._validators[key] = Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": defs})
        return self._validators[key]


_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
    "null": "null",
}


def _convert(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A discovery schema as JSON Schema 2020-12."""
    if "$ref" in schema:
        return {"$ref": f"#/$defs/{schema['$ref']}"}
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if kind == "any" or kind is None:
        pass
    elif kind == "string" and schema.get("format") in ("int64", "uint64"):
        out["type"] = ["string", "integer"]  # int64 travels as a string; clients also send small numbers
    elif kind == "integer":
        out["type"] = "integer"
    elif kind == "number":
        out["type"] = ["number"]
    elif kind in _TYPES:
        out["type"] = _TYPES[kind]
    if "enum" in schema and kind == "string":
        out["enum"] = list(schema["enum"])
    if "properties" in schema:
        out["properties"] = {name: _convert(sub) for name, sub in schema["properties"].items()}
        if "additionalProperties" not in schema:
            out["additionalProperties"] = False
    if "additionalProperties" in schema:
        out["additionalProperties"] = _convert(schema["additionalProperties"])
    if "items" in schema:
        out["items"] = _convert(schema["items"])
    return out
