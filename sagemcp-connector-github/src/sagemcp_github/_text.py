"""Telling a repository's text files from binary ones (cutting text is core's `sagemcp._text.clip`)."""

from __future__ import annotations

__all__ = ["decode_text", "is_binary"]

_SNIFF = 8192


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
