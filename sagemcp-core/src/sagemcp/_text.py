"""Cutting text to a budget for a model, with one truncation marker that says how to get the rest.

Every cut a tool or the platform makes ends (or, for a tail, starts) with the same marker:

    …[truncated: 12,345 of 40,000 characters shown; call github_get_file_content with offset=12345 for more]

so a model learns one pattern: something was left out, this much, and this is the call that
shows more. `clip` cuts text by characters (code points) or UTF-8 bytes, at a line boundary
when one is close, never inside a character or between a letter and its combining marks;
`truncation_marker` writes the marker for cuts counted in other units (lines, entries).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Literal

__all__ = ["MARKER_PREFIX", "Hint", "Unit", "clip", "truncation_marker"]

MARKER_PREFIX = "…[truncated: "
"""How every truncation marker starts; search for it to tell whether a text was cut."""

Unit = Literal["characters", "bytes"]
Hint = str | Callable[[int], str]
"""What to do for the rest: a text, or a function of how much was shown (to name an `offset=`)."""

_LINE_WINDOW = 0.2
"""A newline within the last fifth of the budget is a better place to cut than mid-line."""
_JOINERS = frozenset({"\u200d", "\u034f"})  # zero-width joiner, combining grapheme joiner


def truncation_marker(
    shown: int,
    total: int | None,
    unit: str = "characters",
    hint: str = "",
    *,
    part: Literal["first", "last"] = "first",
) -> str:
    """The marker for a cut: `…[truncated: 120 of 3,000 lines shown; hint]`.

    `part="last"` says the end was kept (a log tail); `total` None when the whole size is unknown.
    """
    where = "" if part == "first" else "the last "
    of = f" of {total:,}" if total is not None else ""
    tail = f"; {hint}" if hint else ""
    return f"{MARKER_PREFIX}{where}{shown:,}{of} {unit} shown{tail}]"


def clip(
    text: str,
    limit: int,
    hint: Hint = "",
    *,
    unit: Unit = "characters",
    keep: Literal["start", "end"] = "start",
) -> tuple[str, bool]:
    """`text` cut to at most `limit` characters (or UTF-8 bytes) plus the marker; and whether it was cut.

    The marker comes on top of the budget. With `keep="end"` the end of the text is kept and
    the marker goes first (logs, where the last lines matter). A cut lands after a newline when
    one is within the last fifth of the budget, so the rest starts on a fresh line.
    """
    if limit < 0:
        raise ValueError("limit must be 0 or more")
    total = _size(text, unit)
    if total <= limit:
        return text, False
    if keep == "start":
        shown = _head(text, limit, unit)
        size = _size(shown, unit)
        note = hint(size) if callable(hint) else hint
        # Mid-line, the marker's ellipsis continues the line; after a newline it starts the next one.
        return f"{shown}{truncation_marker(size, total, unit, note)}", True
    shown = _tail(text, limit, unit)
    size = _size(shown, unit)
    note = hint(size) if callable(hint) else hint
    return f"{truncation_marker(size, total, unit, note, part='last')}\n{shown}", True


def _size(text: str, unit: Unit) -> int:
    return len(text) if unit == "characters" else len(text.encode("utf-8"))


def _chars_within(text: str, limit: int, unit: Unit, *, from_end: bool = False) -> int:
    """How many characters (from the start, or the end) fit in `limit` units."""
    if unit == "characters":
        return min(limit, len(text))
    data = text.encode("utf-8")
    if from_end:
        # Skip continuation bytes so the kept bytes start on a character.
        start = len(data) - limit
        while start < len(data) and data[start] & 0xC0 == 0x80:
            start += 1
        return len(data[start:].decode("utf-8"))
    return len(data[:limit].decode("utf-8", errors="ignore"))


def _head(text: str, limit: int, unit: Unit) -> str:
    cut = _chars_within(text, limit, unit)
    newline = text.rfind("\n", 0, cut)
    if newline >= 0 and newline + 1 >= cut * (1 - _LINE_WINDOW):
        return text[: newline + 1]
    while 0 < cut < len(text) and _binds_to_previous(text, cut):
        cut -= 1
    return text[:cut]


def _tail(text: str, limit: int, unit: Unit) -> str:
    count = _chars_within(text, limit, unit, from_end=True)
    start = len(text) - count
    newline = text.find("\n", start)
    if newline >= 0 and newline + 1 - start <= count * _LINE_WINDOW:
        return text[newline + 1 :]
    while start < len(text) and _binds_to_previous(text, start):
        start += 1
    return text[start:]


def _binds_to_previous(text: str, index: int) -> bool:
    """Whether a cut before `text[index]` would split a character sequence a reader sees as one."""
    char, before = text[index], text[index - 1]
    if unicodedata.combining(char) or char in _JOINERS or before in _JOINERS:
        return True
    if 0xFE00 <= ord(char) <= 0xFE0F or 0x1F3FB <= ord(char) <= 0x1F3FF:  # variation selectors, skin tones
        return True
    # A surrogate pair can only occur in text decoded with `surrogatepass`; keep it whole anyway.
    return 0xDC00 <= ord(char) <= 0xDFFF and 0xD800 <= ord(before) <= 0xDBFF
