"""Check that a request a connector sends is one a Google Discovery document allows.

Google describes its APIs in its own Discovery format, not OpenAPI. `DiscoveryValidator.from_files(paths)`
reads one or more Discovery documents (`.json`, or `.json.gz` under the `.json` name, as
`load_description` reads them; parsed once per process), and `validate_request(request)` finds the
method by HTTP method, host and path (`rootUrl` + `servicePath` + the method's `flatPath` or `path`,
or one of its media-upload paths), then checks what the description says about it:

- path parameters against their `pattern`; query parameters against the method's and the API's
  common parameters: an unknown name, a missing required one, a repeated non-repeated one, a value
  of the wrong type, outside its bounds or its `enum` fails;
- an `Authorization: Bearer <token>` header;
- the JSON body against the method's `request` schema, converted to JSON Schema with
  `additionalProperties: false` wherever the schema lists properties, so an unknown field fails;
  a method without a `request` schema takes no body.

Media uploads follow Google's upload protocols on the method's `mediaUpload` paths:

- `uploadType=multipart`: a `multipart/related` body of two parts, the JSON metadata (checked against
  the `request` schema) and the media, whose type the method's `accept` list must allow;
- `uploadType=media`: the media alone, of an accepted type;
- `uploadType=resumable`: the request that opens an upload session (JSON metadata or no body, the
  media's type in `X-Upload-Content-Type`, its size in `X-Upload-Content-Length`, within `maxSize`),
  and the requests sent to the session URI Google answers with (`upload_id` in its query): `PUT` with
  `Content-Range: bytes FIRST-LAST/TOTAL` and exactly that many bytes, in chunks of a multiple of
  256 KiB except the last, or an empty `PUT` with `Content-Range: bytes */TOTAL` asking how much
  arrived (https://developers.google.com/workspace/drive/api/guides/manage-uploads#resumable).

The validator checks each request on its own: whether a chunk starts where the session stands is for
the test's fake of the service to track (`DiscoveryMethod.content_range` gives the numbers).
`schema_validator(api, name)` checks a response fixture against a response schema the same way.
A mismatch raises `ContractViolation` listing every problem.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from jsonschema import Draft202012Validator

from .openapi import ContractViolation, _locate, load_description

__all__ = ["CHUNK_GRANULARITY", "DiscoveryMethod", "DiscoveryValidator"]

CHUNK_GRANULARITY = 256 * 1024
"""Every chunk of a resumable upload but the last is a multiple of this many bytes (256 KiB)."""

_PLACEHOLDER_RE = re.compile(r"\{\+?([^{}]+)\}")
_RANGE_RE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")
_MAX_PROBLEMS = 20
_UPLOAD_TYPES = ("multipart", "media", "resumable")

_cache: dict[tuple[tuple[str, int, int], ...], DiscoveryValidator] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class DiscoveryMethod:
    """The described method a request matched."""

    id: str
    """The method's id in its document (`drive.files.create`)."""
    api: str
    """The document's `name` (`drive`)."""
    http_method: str
    """The method's own HTTP method (a resumable session's `PUT` still names `POST` for `files.create`)."""
    template: str
    """The path template matched, below the root URL (`drive/v3/files/{fileId}`)."""
    path_params: dict[str, str]
    """Template parameter -> value taken from the request path (percent-decoded)."""
    scopes: tuple[str, ...]
    """The OAuth scopes of which the method accepts any one."""
    upload: str | None = None
    """The upload protocol (`multipart`, `media`, `resumable`) of a request to a media-upload path."""
    session: bool = False
    """The request goes to a resumable upload session (a chunk, or the question how much arrived)."""
    content_range: tuple[int | None, int | None, int | None] | None = None
    """A session request's `Content-Range`: first and last byte (None, None for a status question) and
    the total (None while unknown)."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The method object of the document (for anything not copied above)."""


@dataclass(frozen=True)
class _Route:
    api: str
    root: httpx.URL
    method: Mapping[str, Any]
    template: str
    segments: tuple[re.Pattern[str] | str, ...]
    names: tuple[tuple[str, ...], ...]
    upload: str | None
    """None for the method's own path, `simple` or `resumable` for one of its media-upload paths."""


def _compile(template: str) -> tuple[tuple[re.Pattern[str] | str, ...], tuple[tuple[str, ...], ...]]:
    segments: list[re.Pattern[str] | str] = []
    names: list[tuple[str, ...]] = []
    for part in template.strip("/").split("/"):
        found = _PLACEHOLDER_RE.findall(part)
        if not found:
            segments.append(part)
            names.append(())
            continue
        pattern, pos = "", 0
        for i, match in enumerate(_PLACEHOLDER_RE.finditer(part)):
            pattern += re.escape(part[pos : match.start()]) + f"(?P<g{i}>[^/]+?)"
            pos = match.end()
        segments.append(re.compile(pattern + re.escape(part[pos:]) + "$"))
        names.append(tuple(found))
    return tuple(segments), tuple(names)


def _walk(resource: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from (resource.get("methods") or {}).values()
    for child in (resource.get("resources") or {}).values():
        yield from _walk(child)


class DiscoveryValidator:
    """Validates `httpx.Request`s against a set of Google Discovery documents."""

    def __init__(self, documents: Iterable[Mapping[str, Any]], *, source: str = "<discovery documents>") -> None:
        self.documents: dict[str, Mapping[str, Any]] = {}
        self.source = source
        self._routes: list[_Route] = []
        for document in documents:
            if "discoveryVersion" not in document or "rootUrl" not in document:
                raise ValueError(
                    f"{source}: {document.get('name') or 'a document'} is not a Google Discovery document "
                    "(no discoveryVersion or rootUrl); use OpenAPIValidator for OpenAPI and Swagger"
                )
            api = str(document["name"])
            if api in self.documents:
                raise ValueError(f"{source}: two documents describe the API {api!r}")
            self.documents[api] = document
            root = httpx.URL(str(document["rootUrl"]))
            service = str(document.get("servicePath") or "")
            for method in _walk(document):
                template = service + str(method.get("flatPath") or method["path"])
                self._routes.append(_Route(api, root, method, template, *_compile(template), None))
                protocols = (method.get("mediaUpload") or {}).get("protocols") or {}
                for protocol in ("simple", "resumable"):
                    spec = protocols.get(protocol)
                    if isinstance(spec, Mapping) and spec.get("path"):
                        path = str(spec["path"]).lstrip("/")
                        self._routes.append(_Route(api, root, method, path, *_compile(path), protocol))
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<DiscoveryValidator {self.source} ({', '.join(self.documents)}; {len(self)} methods)>"

    def __len__(self) -> int:
        return len(self.method_ids)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]]) -> DiscoveryValidator:
        """The validator for these Discovery documents (a `.json` name is also read from `.json.gz`);
        built once per process for the same files."""
        located = [_locate(Path(p)).resolve() for p in paths]
        key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in located)
        with _cache_lock:
            found = _cache.get(key)
            if found is None:
                documents = [load_description(p) for p in located]
                found = _cache[key] = cls(documents, source=", ".join(p.name for p in located))
        return found

    @property
    def method_ids(self) -> frozenset[str]:
        """The ids of every described method (`drive.files.list`, ...)."""
        return frozenset(str(route.method["id"]) for route in self._routes)

    # -- matching ------------------------------------------------------------------------

    def find_method(self, method: str, url: httpx.URL | str) -> DiscoveryMethod | None:
        """The method serving `method` on `url` (a resumable session's `PUT` included), or None."""
        target = httpx.URL(url) if isinstance(url, str) else url
        found = self._find(method.upper(), target)
        return None if found is None else self._describe(found[0], found[1], target)

    def _find(self, method: str, url: httpx.URL) -> tuple[_Route, dict[str, str]] | None:
        segments = url.raw_path.split(b"?", 1)[0].decode("ascii", errors="replace").strip("/").split("/")
        session = "upload_id" in url.params
        best: tuple[int, _Route, dict[str, str]] | None = None
        for route in self._routes:
            if route.root.host != url.host or route.root.scheme != url.scheme:
                continue
            expected = route.method["httpMethod"]
            if session and route.upload is not None:
                if method not in ("PUT", "POST"):
                    continue
            elif expected != method:
                continue
            if len(route.segments) != len(segments):
                continue
            params: dict[str, str] = {}
            literal = 0
            for pattern, names, actual in zip(route.segments, route.names, segments, strict=True):
                if isinstance(pattern, str):
                    if pattern != actual:
                        break
                    literal += 1
                    continue
                match = pattern.match(actual)
                if match is None:
                    break
                for i, name in enumerate(names):
                    params[name] = unquote(match.group(f"g{i}"))
            else:
                if best is None or literal > best[0]:
                    best = (literal, route, params)
        return (best[1], best[2]) if best else None

    def _describe(self, route: _Route, params: dict[str, str], url: httpx.URL) -> DiscoveryMethod:
        upload = url.params.get("uploadType") if route.upload is not None else None
        return DiscoveryMethod(
            id=str(route.method["id"]),
            api=route.api,
            http_method=str(route.method["httpMethod"]),
            template=route.template,
            path_params=params,
            scopes=tuple(route.method.get("scopes") or ()),
            upload=upload,
            session=route.upload is not None and "upload_id" in url.params,
            raw=route.method,
        )

    # -- checks --------------------------------------------------------------------------

    def validate_request(self, request: httpx.Request) -> DiscoveryMethod:
        """The method `request` calls; `ContractViolation` listing every problem if the description forbids it."""
        where = f"{request.method} {request.url.copy_with(query=None)}"
        found = self._find(request.method.upper(), request.url)
        if found is None:
            raise ContractViolation(f"no method of the Google discovery documents matches {where}")
        route, path_params = found
        method = route.method
        problems: list[str] = []
        declared = dict(self.documents[route.api].get("parameters") or {})
        declared.update(method.get("parameters") or {})
        described = self._describe(route, path_params, request.url)
        for name, value in path_params.items():
            spec = declared.get(name) or {}
            if spec.get("location") != "path":
                problems.append(f"path parameter {name!r} is not declared")
            else:
                _check_value(f"path parameter {name!r}", spec, value, problems)
        given: dict[str, list[str]] = {}
        for name, value in request.url.params.multi_items():
            given.setdefault(name, []).append(value)
        if described.session:
            given.pop("upload_id", None)  # the session's id, which Google adds to the session URI
        for name, values in given.items():
            spec = declared.get(name)
            if spec is None or spec.get("location") != "query":
                known = sorted(k for k, v in declared.items() if v.get("location") == "query")
                problems.append(f"unknown query parameter {name!r}; {method['id']} takes: {', '.join(known)}")
                continue
            if len(values) > 1 and not spec.get("repeated"):
                problems.append(f"query parameter {name!r} is not repeated but was given {len(values)} times")
            for value in values:
                _check_value(f"query parameter {name!r}", spec, value, problems)
        if not described.session:
            for name, spec in declared.items():
                if spec.get("required") and spec.get("location") == "query" and name not in given:
                    problems.append(f"missing required query parameter {name!r}")
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            problems.append("no `Authorization: Bearer <token>` header")
        content_range = None
        if route.upload is None:
            self._check_body(route, request, problems)
        else:
            content_range = self._check_upload(route, described, request, problems)
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems[:_MAX_PROBLEMS])
            raise ContractViolation(f"{where} ({method['id']}) does not match its discovery document:\n{listing}")
        if content_range is None:
            return described
        return replace(described, content_range=content_range)

    def _check_body(self, route: _Route, request: httpx.Request, problems: list[str]) -> None:
        body = request.content
        if not body:
            return
        ref = (route.method.get("request") or {}).get("$ref")
        if ref is None:
            problems.append(f"{route.method['id']} takes no request body, but one was sent")
            return
        content_type = _media_type(request.headers.get("content-type"))
        if content_type != "application/json":
            problems.append(f"the body must be application/json, not {content_type or 'none'}")
        self._check_json(route.api, ref, body, problems)

    def _check_upload(
        self, route: _Route, described: DiscoveryMethod, request: httpx.Request, problems: list[str]
    ) -> tuple[int | None, int | None, int | None] | None:
        media_upload = route.method.get("mediaUpload") or {}
        accept = [str(a) for a in media_upload.get("accept") or ["*/*"]]
        max_size = int(media_upload["maxSize"]) if str(media_upload.get("maxSize") or "").isdigit() else None
        protocol = described.upload
        if protocol not in _UPLOAD_TYPES:
            problems.append(f"a media upload needs uploadType=multipart, media or resumable, not {protocol!r}")
            return None
        if route.upload == "resumable" and protocol != "resumable":
            problems.append(f"{route.template} is the resumable upload path; it takes uploadType=resumable only")
        ref = (route.method.get("request") or {}).get("$ref")
        content_type = _media_type(request.headers.get("content-type"))
        body = request.content
        if described.session:
            if protocol != "resumable":
                problems.append("a request with upload_id belongs to a resumable session: uploadType=resumable")
            if request.method.upper() != "PUT":
                problems.append(f"requests to a resumable session are PUT, not {request.method}")
            return _check_chunk(request, max_size, problems)
        if request.method.upper() != route.method["httpMethod"]:
            problems.append(f"{route.method['id']} is {route.method['httpMethod']}, not {request.method}")
        if protocol == "multipart":
            self._check_multipart(route, request, accept, ref, problems)
        elif protocol == "media":
            if not _accepted(content_type, accept):
                problems.append(f"the media type {content_type or 'none'} is not accepted ({', '.join(accept)})")
            if max_size is not None and len(body) > max_size:
                problems.append(f"the media is {len(body)} bytes, over the method's maxSize {max_size}")
        else:
            self._check_initiation(route, request, accept, max_size, ref, problems)
        return None

    def _check_multipart(
        self, route: _Route, request: httpx.Request, accept: Sequence[str], ref: str | None, problems: list[str]
    ) -> None:
        if _media_type(request.headers.get("content-type")) != "multipart/related":
            problems.append(
                "a multipart upload must be multipart/related, "
                f"not {_media_type(request.headers.get('content-type')) or 'none'}"
            )
            return
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = message_from_bytes(head + request.content, policy=HTTP)
        parts = list(message.iter_parts()) if message.is_multipart() else []
        if len(parts) != 2 or parts[0].get_content_type() != "application/json":
            problems.append("a multipart upload has two parts: the JSON metadata, then the media")
            return
        media = parts[1].get_content_type()
        if not _accepted(media, accept):
            problems.append(f"the media type {media} is not accepted ({', '.join(accept)})")
        metadata = parts[0].get_payload(decode=True)
        if isinstance(metadata, bytes):
            self._check_json(route.api, ref, metadata, problems)

    def _check_initiation(
        self,
        route: _Route,
        request: httpx.Request,
        accept: Sequence[str],
        max_size: int | None,
        ref: str | None,
        problems: list[str],
    ) -> None:
        media = request.headers.get("x-upload-content-type")
        if media is not None and not _accepted(_media_type(media), accept):
            problems.append(f"X-Upload-Content-Type {media} is not accepted ({', '.join(accept)})")
        length = request.headers.get("x-upload-content-length")
        if length is not None:
            if not length.isdigit():
                problems.append(f"X-Upload-Content-Length must be a number of bytes, got {length!r}")
            elif max_size is not None and int(length) > max_size:
                problems.append(f"X-Upload-Content-Length {length} is over the method's maxSize {max_size}")
        if not request.content:
            return
        content_type = _media_type(request.headers.get("content-type"))
        if content_type != "application/json":
            problems.append(
                f"the request opening a resumable upload carries JSON metadata, not {content_type or 'none'}"
            )
        self._check_json(route.api, ref, request.content, problems)

    def _check_json(self, api: str, ref: str | None, body: bytes, problems: list[str]) -> None:
        try:
            value = json.loads(body)
        except ValueError as exc:
            problems.append(f"the body is not JSON ({exc})")
            return
        if ref is None:
            return
        validator = self.schema_validator(api, ref)
        errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
        for error in errors[:_MAX_PROBLEMS]:
            path = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"body /{path}: {error.message[:300]}")

    def schema_validator(self, api: str, name: str) -> Draft202012Validator:
        """A JSON Schema validator for the schema `name` of `api` (unknown properties refused)."""
        key = (api, name)
        with self._lock:
            if key not in self._validators:
                if api not in self.documents:
                    raise KeyError(f"no discovery document for the API {api!r}; known: {', '.join(self.documents)}")
                schemas = self.documents[api].get("schemas") or {}
                if name not in schemas:
                    raise KeyError(f"the {api} discovery document has no schema {name!r}")
                defs = {schema_name: _convert(schema) for schema_name, schema in schemas.items()}
                self._validators[key] = Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": defs})
            return self._validators[key]


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


def _check_chunk(
    request: httpx.Request, max_size: int | None, problems: list[str]
) -> tuple[int | None, int | None, int | None] | None:
    """A resumable session request's `Content-Range` against its body and the protocol's chunk rule."""
    header = request.headers.get("content-range")
    if header is None:
        problems.append("a request to a resumable session needs Content-Range: bytes FIRST-LAST/TOTAL or bytes */TOTAL")
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None:
        problems.append(f"Content-Range {header!r} is not bytes FIRST-LAST/TOTAL, bytes */TOTAL or bytes FIRST-LAST/*")
        return None
    first, last, total_text = match.group(1), match.group(2), match.group(3)
    total = None if total_text == "*" else int(total_text)
    size = len(request.content)
    declared_length = request.headers.get("content-length")
    if declared_length is not None and declared_length.isdigit() and int(declared_length) != size:
        problems.append(f"Content-Length {declared_length} does not match the {size} bytes sent")
    if total is not None and max_size is not None and total > max_size:
        problems.append(f"the upload is {total} bytes, over the method's maxSize {max_size}")
    if first is None:
        if size:
            problems.append(f"a status question (bytes */TOTAL) has no body, but {size} bytes were sent")
        if total is None:
            problems.append("a status question names the total size: bytes */TOTAL")
        return (None, None, total)
    start, end = int(first), int(last)
    if end < start:
        problems.append(f"Content-Range {header!r} ends before it starts")
        return (start, end, total)
    if end - start + 1 != size:
        problems.append(f"Content-Range {header!r} names {end - start + 1} bytes, but {size} were sent")
    if total is not None and end >= total:
        problems.append(f"Content-Range {header!r} goes past the total of {total} bytes")
    final = total is not None and end + 1 == total
    if not final and size % CHUNK_GRANULARITY:
        problems.append(
            f"a chunk other than the last must be a multiple of {CHUNK_GRANULARITY} bytes (256 KiB), not {size}"
        )
    return (start, end, total)


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _accepted(media: str, accept: Sequence[str]) -> bool:
    return any(a == "*/*" or a == media or (a.endswith("/*") and media.startswith(a[:-1])) for a in accept)


_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


def _convert(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A Discovery schema as JSON Schema 2020-12 (properties closed unless `additionalProperties` says)."""
    if "$ref" in schema:
        return {"$ref": f"#/$defs/{schema['$ref']}"}
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if kind == "string" and schema.get("format") in ("int64", "uint64"):
        out["type"] = ["string", "integer"]  # int64 travels as a string; clients also send small numbers
    elif kind in _TYPES:
        out["type"] = kind
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
