"""Bounding text, telling binary from text, and building paths: the helpers every tool relies on."""

from __future__ import annotations

import pytest

from sagemcp.errors import InvalidArguments
from sagemcp_github._params import file_path, repo_path, segment
from sagemcp_github._text import decode_text, is_binary
from sagemcp_github.models import body


def test_body_fields_are_cut_with_the_core_marker() -> None:
    assert body(None, 10, "hint") == (None, False)
    assert body(42, 10) == (None, False)
    assert body("hello", 10) == ("hello", False)
    text, cut = body("a" * 1000, 100, "use github_get_issue for the full text")
    assert cut is True
    assert text == "a" * 100 + "…[truncated: 100 of 1,000 characters shown; use github_get_issue for the full text]"


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
