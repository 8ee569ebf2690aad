"""Helpers for list tools: the `limit` and `cursor` parameters, opaque cursors bound to their tool, `Page`.

A list tool declares its page size and cursor like this:

    async def list_things(self, ctx, ..., limit: Annotated[int, Limit(maximum=100)] = 20, cursor: Cursor = None)

`Limit` gives the schema a minimum of 1, the hard maximum, and a description naming both and
the default; `Cursor` describes the cursor. A cursor holds whatever the tool needs for the next
page (an upstream page token, a page number, an offset) as URL-safe base64 of compact JSON,
with a short checksum so that a cut or edited cursor is refused, and the name of the tool that
made it: another tool refuses it with `InvalidCursor`, which tells the model to call that tool
again without a cursor. A cursor can also be bound to the arguments that shape the listing
(`bind=`). Cursors carry no secrets: they are sent to and stored by MCP clients.

Core runs every tool function inside `cursor_scope(tool name)`, so inside a tool
`encode_cursor(state)` and `decode_cursor(cursor)` need no tool name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from .errors import DefinitionError, InvalidArguments, InvalidCursor

if TYPE_CHECKING:
    from ._upstream import UpstreamResponse

__all__ = [
    "MAX_CURSOR_LENGTH",
    "Cursor",
    "Limit",
    "Page",
    "clamp_limit",
    "current_cursor_tool",
    "cursor_scope",
    "decode_cursor",
    "encode_cursor",
    "next_link",
]

MAX_CURSOR_LENGTH = 8192

T = TypeVar("T")

_CHECK_BYTES = 4
_BIND_BYTES = 8
_CHECK_SALT = b"sagemcp.cursor\x00"
_tool: ContextVar[str | None] = ContextVar("sagemcp_cursor_tool", default=None)


class Page(BaseModel, Generic[T]):
    """One page of a list tool's result; pass `next_cursor` back to get the next page.

    `truncated` says the page holds fewer items than the upstream returned (a size cap applied).
    """

    items: list[T]
    next_cursor: str | None = None
    truncated: bool = False


@dataclass(frozen=True)
class Limit:
    """Marks a list tool's page-size parameter: `limit: Annotated[int, Limit(maximum=100)] = 20`.

    The tool's input schema gets minimum 1, `maximum`, the signature's default, and a short
    description ("Items per page."): the bounds are in the schema, so a model asking for more
    is told the bound by the validation error instead of being cut silently. `what` names the items.
    """

    maximum: int = 100
    what: str = "Items"

    def __post_init__(self) -> None:
        if self.maximum < 1:
            raise DefinitionError(f"Limit(maximum={self.maximum}) must allow at least 1 item per page")

    def field(self, default: int) -> FieldInfo:
        """The pydantic field of a limit parameter whose default is `default`."""
        if isinstance(default, bool) or not isinstance(default, int) or not 1 <= default <= self.maximum:
            raise DefinitionError(f"a Limit(maximum={self.maximum}) parameter needs a default from 1 to {self.maximum}")
        info: FieldInfo = Field(ge=1, le=self.maximum, description=f"{self.what} per page.")
        return info


Cursor = Annotated[
    str | None,
    Field(
        max_length=MAX_CURSOR_LENGTH,
        description="The previous page's next_cursor.",
    ),
]
"""The `cursor` parameter of a list tool (default None)."""


@contextmanager
def cursor_scope(tool: str) -> Iterator[None]:
    """Bind the cursors made and read inside to `tool` (core enters it around every tool call)."""
    token = _tool.set(tool)
    try:
        yield
    finally:
        _tool.reset(token)


def current_cursor_tool() -> str | None:
    """The tool the cursors made now are bound to: the one running, or None outside a tool call."""
    return _tool.get()


def encode_cursor(state: Mapping[str, Any], *, tool: str | None = None, bind: Mapping[str, Any] | None = None) -> str:
    """An opaque cursor holding `state` (JSON-serialisable) for `tool` (default: the running tool).

    With `bind`, the cursor is valid only when `decode_cursor` is given the same `bind` values
    (for example the arguments that shape the listing); only a hash of them is stored.
    """
    body: dict[str, Any] = {"t": _owner(tool, "encode_cursor"), "s": dict(state)}
    if bind is not None:
        body["a"] = _bind_hash(bind)
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False).encode("utf-8")
    cursor = base64.urlsafe_b64encode(_check(raw) + raw).rstrip(b"=").decode("ascii")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError(f"cursor state is too large ({len(cursor)} characters, at most {MAX_CURSOR_LENGTH})")
    return cursor


def decode_cursor(cursor: str, *, tool: str | None = None, bind: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The state inside a cursor that `tool` (default: the running tool) made; else `InvalidCursor`.

    Refused: anything that is not an intact cursor, a cursor made by another tool, and (with
    `bind`) a cursor made for other `bind` values.
    """
    owner = _owner(tool, "decode_cursor")
    body = _unpack(cursor)
    if body is None:
        raise InvalidCursor(
            f"this cursor is not valid for {owner}: it is not a next_cursor this tool returned, or it was cut or "
            f"changed. Pass next_cursor back unchanged, or call {owner} again without a cursor to start over.",
            "not a cursor returned by this tool",
        )
    made_by = body.get("t")
    if made_by != owner:
        origin = f" (it came from {made_by})" if isinstance(made_by, str) else ""
        raise InvalidCursor(
            f"this cursor is not valid for this tool{origin}; call {owner} again without a cursor, and pass it "
            "only the next_cursor of its own previous page.",
            "made by another tool",
        )
    if bind is not None and body.get("a") != _bind_hash(bind):
        names = ", ".join(sorted(bind))
        raise InvalidCursor(
            f"this cursor is not valid for {owner} with these arguments: it was returned for other values of "
            f"{names}. Call {owner} again with the same {names} as for the previous page, or without a cursor.",
            f"made for other values of {names}",
        )
    state = body.get("s")
    if not isinstance(state, dict):
        raise InvalidCursor(
            f"this cursor is not valid for {owner}; call {owner} again without a cursor.", "no state in the cursor"
        )
    return state


def next_link(response: UpstreamResponse) -> str | None:
    """The absolute URL of the `Link: <...>; rel="next"` page, if the response has one."""
    return response.links.get("next")


def clamp_limit(limit: int | None, default: int, maximum: int) -> int:
    """The page size to ask for: `default` when not given, at most `maximum`."""
    if limit is None:
        return min(default, maximum)
    if limit < 1:
        raise InvalidArguments(f"limit must be at least 1, got {limit}", errors=[("limit", "must be at least 1")])
    return min(limit, maximum)


def _owner(tool: str | None, function: str) -> str:
    owner = tool or _tool.get()
    if not owner:
        raise DefinitionError(
            f"{function} outside a tool call needs tool=: cursors are bound to the tool that makes and reads them"
        )
    return owner


def _check(raw: bytes) -> bytes:
    return hashlib.sha256(_CHECK_SALT + raw).digest()[:_CHECK_BYTES]


def _bind_hash(bind: Mapping[str, Any]) -> str:
    raw = json.dumps(dict(bind), separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(raw.encode("utf-8")).digest()[:_BIND_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _unpack(cursor: str) -> dict[str, Any] | None:
    """The JSON body of an intact cursor, or None."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        data = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (ValueError, binascii.Error):
        return None
    check, raw = data[:_CHECK_BYTES], data[_CHECK_BYTES:]
    if len(check) < _CHECK_BYTES or not hmac.compare_digest(check, _check(raw)):
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
