"""Bounding text and building paths: the helpers every tool relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sagemcp.errors import InvalidArguments
from sagemcp_github._params import file_path, repo_path, segment
from sagemcp_github._text import clip, decode_text, is_binary


def test_short_text_is_kept() -> None:
    assert clip("hello", 10) == ("hello", False)
    assert clip(None, 10) == (None, False)


def test_long_text_is_cut_with_a_marker() -> None:
    text, cut = clip("a" * 1000, 100, "ask for more")
    assert cut is True and text is not None
    assert text == "a" * 100 + "\n[truncated: 900 more characters of 1,000; ask for more]"


def test_cut_prefers_a_line_boundary() -> None:
    text, _ = clip("line\n" * 100, 98)
    assert text == "line\n" * 19 + "[truncated: 406 more characters of 500]"


@given(st.text(max_size=3000), st.integers(min_value=1, max_value=2000))
def test_clip_keeps_a_prefix_and_bounds_the_size(text: str, limit: int) -> None:
    out, cut = clip(text, limit)
    assert out is not None
    if cut:
        body = out.rsplit("\n[truncated: ", 1)[0]
        assert text.startswith(body) and len(body) <= limit
    else:
        assert out == text


@pytest.mark.parametrize(
    ("data", "binary"),
    [
        (b"plain text\n", False),
        ("ünïcödé – ✓\n".encode(), False),
        (b"\x89PNG\r\n\x1a\n\x00\x00", True),
        (b"caf\xe9", True),
        (b"", False),
        ("é".encode() * 4096 + b"x", False),  # a multi-byte character across the sniffed prefix
    ],
)
def test_binary_detection(data: bytes, binary: bool) -> None:
    assert is_binary(data) is binary
    assert (decode_text(data) is None) is binary


def test_bom_is_dropped() -> None:
    assert decode_text(b"\xef\xbb\xbfhello") == "hello"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [("Hello-World", "Hello-World"), ("feature/x", "feature%2Fx"), ("a b", "a%20b"), ("v1.0", "v1.0"), ("ä", "%C3%A4")],
)
def test_segments_are_encoded(value: str, encoded: str) -> None:
    assert segment(value) == encoded


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_dot_segments_are_refused(value: str) -> None:
    with pytest.raises(InvalidArguments):
        segment(value, "repo")


@pytest.mark.parametrize("path", ["a/../b", "./a", "a//b", "/", "a/."])
def test_bad_file_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidArguments):
        file_path(path)


def test_file_paths_keep_their_slashes() -> None:
    assert file_path("/docs/my file#1.md/") == "docs/my%20file%231.md"
    assert (
        repo_path("octocat", "Hello-World", "contents", file_path("a?b")) == "/repos/octocat/Hello-World/contents/a%3Fb"
    )
