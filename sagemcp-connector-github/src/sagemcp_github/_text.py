"""Bounding text for a model: cut with an explicit marker, never silently; tell binary from text."""

from __future__ import annotations

__all__ = ["clip", "decode_text", "is_binary"]

_SNIFF = 8192


def clip(text: str | None, limit: int, hint: str = "") -> tuple[str | None, bool]:
    """`text` cut to about `limit` characters with a `[truncated ...]` marker; and whether it was cut."""
    if text is None or len(text) <= limit:
        return text, False
    cut = text[:limit]
    newline = cut.rfind("\n")
    if newline > limit * 0.8:  # end on a line boundary when one is near
        cut = cut[:newline]
    more = len(text) - len(cut)
    marker = f"[truncated: {more:,} more characters of {len(text):,}"
    marker += f"; {hint}]" if hint else "]"
    return f"{cut}\n{marker}", True


def is_binary(data: bytes) -> bool:
    """Whether `data` looks like a binary file: a NUL byte early on, or not UTF-8 text."""
    head = data[:_SNIFF]
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is still text.
        return not (len(head) == _SNIFF and exc.start >= _SNIFF - 3)
    return False


def decode_text(data: bytes) -> str | None:
    """`data` as UTF-8 text (a leading BOM dropped), or None when it is binary."""
    if is_binary(data):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
