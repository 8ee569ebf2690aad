"""`clip` and the one truncation marker: budgets, line boundaries, unicode, the hint."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sagemcp import MARKER_PREFIX, clip, truncation_marker


def body_of(out: str) -> str:
    """The text before the marker."""
    return out.split(MARKER_PREFIX, 1)[0]


def test_text_within_the_budget_is_kept() -> None:
    assert clip("hello", 5) == ("hello", False)
    assert clip("", 0) == ("", False)
    assert clip("héllo", 6, unit="bytes") == ("héllo", False)


def test_a_cut_says_what_was_cut_and_how_to_get_the_rest() -> None:
    out, cut = clip("a" * 40_000, 12_345, lambda shown: f"call github_get_file_content with offset={shown} for more")
    assert cut is True
    assert out == "a" * 12_345 + (
        "…[truncated: 12,345 of 40,000 characters shown; call github_get_file_content with offset=12345 for more]"
    )


def test_the_marker_without_a_hint() -> None:
    assert clip("abcdef", 3) == ("abc…[truncated: 3 of 6 characters shown]", True)
    assert truncation_marker(300, 1_234, "entries", "narrow it with path_prefix") == (
        "…[truncated: 300 of 1,234 entries shown; narrow it with path_prefix]"
    )


def test_a_nearby_line_boundary_is_preferred() -> None:
    out, _ = clip("line\n" * 100, 98)
    assert body_of(out) == "line\n" * 19  # 95 characters: the cut lands after a newline
    assert out.endswith("\n…[truncated: 95 of 500 characters shown]")


def test_a_far_line_boundary_is_not_used() -> None:
    text = "short\n" + "x" * 200
    out, _ = clip(text, 100)
    assert body_of(out) == text[:100]


def test_bytes_budget_never_splits_a_character() -> None:
    text = "é" * 10  # two bytes each
    out, cut = clip(text, 5, unit="bytes")
    assert cut and body_of(out) == "éé"
    assert out.endswith("[truncated: 4 of 20 bytes shown]")


def test_combining_marks_and_emoji_sequences_stay_whole() -> None:
    accented = "cafe\u0301" * 3  # "café" spelled with a combining acute accent
    assert body_of(clip(accented, 4)[0]) == "caf"  # not "cafe", which would drop the accent
    assert body_of(clip(accented, 5)[0]) == "cafe\u0301"
    assert unicodedata.combining("\u0301")
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji of five code points
    out, _ = clip("ab" + family, 4)
    assert body_of(out) == "ab"
    thumbs = "ok \U0001f44d\U0001f3fd"  # thumbs up with a skin tone
    out, _ = clip(thumbs, 4)
    assert body_of(out) == "ok "


def test_keeping_the_end_puts_the_marker_first() -> None:
    log = "".join(f"line {i}\n" for i in range(1000))
    out, cut = clip(log, 100, "download log_url for the whole log", unit="bytes", keep="end")
    marker, rest = out.split("\n", 1)
    assert cut and log.endswith(rest) and rest.startswith("line ")
    assert len(rest.encode()) <= 100
    assert (
        marker
        == f"…[truncated: the last {len(rest.encode())} of {len(log):,} bytes shown; download log_url for the whole log]"
    )


def test_marker_for_an_unknown_total() -> None:
    assert truncation_marker(20_000, None, "bytes", part="last") == "…[truncated: the last 20,000 bytes shown]"


def test_negative_budget_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        clip("abc", -1)


@given(st.text(max_size=2000), st.integers(min_value=0, max_value=1500), st.sampled_from(["characters", "bytes"]))
def test_clip_keeps_a_prefix_within_the_budget(text: str, limit: int, unit: str) -> None:
    out, cut = clip(text, limit, "more", unit=unit)  # type: ignore[arg-type]
    if not cut:
        assert out == text
        return
    body = body_of(out)
    assert text.startswith(body)
    size = len(body) if unit == "characters" else len(body.encode())
    assert size <= limit
    assert out.endswith(f" {unit} shown; more]")


@given(st.text(max_size=2000), st.integers(min_value=0, max_value=1500))
def test_clip_end_keeps_a_suffix_within_the_budget(text: str, limit: int) -> None:
    out, cut = clip(text, limit, unit="bytes", keep="end")
    if not cut:
        assert out == text
        return
    marker, rest = out.split("\n", 1)
    assert marker.startswith(MARKER_PREFIX + "the last ")
    assert text.endswith(rest) and len(rest.encode()) <= limit
