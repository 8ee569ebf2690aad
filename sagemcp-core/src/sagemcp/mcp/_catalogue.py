"""The `tools/list` catalogue of one caller, computed once per tenant view and served from memory.

A `Listing` holds the tools one kind of caller is served (the same connectors, endpoint and
discovery mode), cut into pages with their cursors, each page as the handler's result and,
per protocol version, as the exact JSON bytes of the result the SDK would send. It lives in
the `TenantView`, which the resolver replaces whenever the tenant's generation changes, so a
policy edit or a connector change is never served from an old listing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
import pydantic_core
from mcp.server.caching import CacheHint
from mcp.shared.exceptions import MCPError
from mcp_types import SERVER_INFO_META_KEY, JSONRPCResponse
from mcp_types import methods as _methods

__all__ = ["Listing", "page_cursor", "page_start"]

_INVALID_CURSOR = (
    "Invalid cursor: the tool list changed since this cursor was issued, or it is not one of "
    "this server's; list the tools again without a cursor."
)


def page_cursor(start: int, digest: str) -> str:
    """The cursor of the page starting at `start` of the catalogue with `digest`."""
    return base64.urlsafe_b64encode(f"{start}:{digest}".encode()).decode("ascii").rstrip("=")


def page_start(cursor: str, digest: str) -> int:
    """The offset a `tools/list` cursor continues from, or -32602 when it is not one for this catalogue."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        start, _, issued_for = text.partition(":")
        offset = int(start)
    except (ValueError, UnicodeError):
        offset, issued_for = -1, ""
    if offset < 0 or issued_for != digest:
        raise MCPError(code=types.INVALID_PARAMS, message=_INVALID_CURSOR)
    return offset


def digest_of(tools: list[dict[str, Any]], salt: str = "") -> str:
    """A short digest of the tools served (names and input schemas) and `salt` (what serves them):
    what cursors are bound to."""
    h = hashlib.sha256(salt.encode())
    for tool in tools:
        h.update(tool["name"].encode())
        h.update(json.dumps(tool.get("inputSchema"), sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


@dataclass
class Listing:
    """One caller kind's tools, pre-dumped, with its pages and their wire form per protocol version."""

    tools: list[dict[str, Any]]
    page_size: int
    digest: str = ""
    _pages: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _cursors: dict[str, int] = field(default_factory=dict, repr=False)
    _shaped: dict[tuple[str, int, str], dict[str, Any]] = field(default_factory=dict, repr=False)
    _wire: dict[tuple[str, int, str], bytes] = field(default_factory=dict, repr=False)
    _modern_wire: dict[tuple[str, int, str, str], bytes] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, tools: list[types.Tool], page_size: int, salt: str = "") -> Listing:
        dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
        listing = cls(dumped, page_size, digest_of(dumped, salt))
        for start in range(page_size, len(dumped), page_size):
            listing._cursors[page_cursor(start, listing.digest)] = start
        return listing

    def start_of(self, cursor: str | None) -> int:
        """Where the page named by `cursor` starts; -32602 for a cursor of another catalogue."""
        if cursor is None:
            return 0
        known = self._cursors.get(cursor)
        return known if known is not None else page_start(cursor, self.digest)

    def page(self, start: int) -> dict[str, Any]:
        """The `tools/list` result of the page starting at `start` (shared: callers must not change it)."""
        result = self._pages.get(start)
        if result is None:
            end = start + self.page_size
            result = {"tools": self.tools[start:end]}
            if end < len(self.tools):
                result["nextCursor"] = page_cursor(end, self.digest)
            if start == 0 or start in self._cursors.values():
                self._pages[start] = result  # only issued pages are kept: a forged offset must not grow the cache
        return result

    def issued_start(self, cursor: str | None) -> int | None:
        """The start of the page `cursor` names when this listing issued it (or None: the first page)."""
        if cursor is None:
            return 0
        return self._cursors.get(cursor)

    def result(self, start: int, hint: CacheHint | None) -> dict[str, Any]:
        """A page as the handler's result: with the result model's own defaults (`ttlMs`, `cacheScope`,
        `resultType`) unless the server has a cache hint for `tools/list`, which the SDK then fills in."""
        return {**(HINTED_DEFAULTS if hint is not None else RESULT_DEFAULTS), **self.page(start)}

    def shaped(self, start: int, version: str, hint: CacheHint | None) -> dict[str, Any]:
        """A page's result exactly as the SDK's runner shapes the handler's result for `version` (the cache
        hint first, then the per-version sieve), once per page, version and hint. Shared: do not change it."""
        key = (version, start, f"{hint.ttl_ms}/{hint.scope}" if hint is not None else "")
        cached = self._shaped.get(key)
        if cached is None:
            result: Mapping[str, Any] = self.result(start, hint)
            if hint is not None:
                result = {"ttlMs": hint.ttl_ms, "cacheScope": hint.scope, **result}
            cached = self._shaped[key] = _methods.serialize_server_result("tools/list", version, dict(result))
        return cached

    def wire(self, start: int, version: str, hint: CacheHint | None) -> bytes:
        """The JSON of a page's result exactly as the SDK sends it for a handshake-era `version`."""
        key = (version, start, f"{hint.ttl_ms}/{hint.scope}" if hint is not None else "")
        cached = self._wire.get(key)
        if cached is None:
            cached = self._wire[key] = pydantic_core.to_json(self.shaped(start, version, hint))
        return cached

    def modern_wire(self, start: int, version: str, hint: CacheHint | None, server_info: dict[str, Any]) -> bytes:
        """The JSON of a page's result exactly as the SDK's 2026-era single-exchange transport writes it:
        the runner's `serverInfo` stamp added, dumped through `JSONRPCResponse` and `json.dumps` (compact,
        ASCII-escaped), as that transport does. `server_info` is the server's stamp, fixed per server."""
        stamp = json.dumps(server_info, sort_keys=True)
        key = (version, start, f"{hint.ttl_ms}/{hint.scope}" if hint is not None else "", stamp)
        cached = self._modern_wire.get(key)
        if cached is None:
            result = {**self.shaped(start, version, hint), "_meta": {SERVER_INFO_META_KEY: server_info}}
            response = JSONRPCResponse(jsonrpc="2.0", id=0, result=result)
            dumped = response.model_dump(mode="json", by_alias=True, exclude_none=True)["result"]
            cached = self._modern_wire[key] = json.dumps(dumped, separators=(",", ":")).encode()
        return cached


RESULT_DEFAULTS: dict[str, Any] = {
    k: v
    for k, v in types.ListToolsResult(tools=[]).model_dump(mode="json", by_alias=True, exclude_none=True).items()
    if k != "tools"
}
"""What a `ListToolsResult` built without them says for its cache and result-type fields."""
HINTED_DEFAULTS: dict[str, Any] = {k: v for k, v in RESULT_DEFAULTS.items() if k not in ("ttlMs", "cacheScope")}
