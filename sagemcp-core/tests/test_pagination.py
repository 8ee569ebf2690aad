from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sagemcp.errors import InvalidArguments
from sagemcp.pagination import MAX_CURSOR_LENGTH, Page, clamp_limit, decode_cursor, encode_cursor, next_link
from sagemcp.upstream import UpstreamResponse

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
cursor_data = st.dictionaries(st.text(max_size=12), json_values, max_size=6)


@given(cursor_data)
def test_cursor_round_trip(data: dict[str, Any]) -> None:
    cursor = encode_cursor(data)
    assert re.fullmatch(r"[A-Za-z0-9_-]*", cursor)
    assert decode_cursor(cursor) == data


def test_cursor_is_compact_and_deterministic() -> None:
    cursor = encode_cursor({"page": 2, "after": "Y3Vyc29y=="})
    assert cursor == encode_cursor({"after": "Y3Vyc29y==", "page": 2})
    padded = cursor + "=" * (-len(cursor) % 4)
    assert base64.urlsafe_b64decode(padded) == b'{"after":"Y3Vyc29y==","page":2}'


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "%%%%",
        "abc",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b"{broken").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
        encode_cursor({"a": "b"}) + "!",
        "A" * (MAX_CURSOR_LENGTH + 4),
    ],
)
def test_garbage_cursors_are_invalid_arguments(cursor: str) -> None:
    with pytest.raises(InvalidArguments, match="cursor is not valid") as info:
        decode_cursor(cursor)
    assert [field for field, _ in info.value.errors] == ["cursor"]


@given(st.text(max_size=200))
def test_decode_never_raises_anything_else(cursor: str) -> None:
    try:
        result = decode_cursor(cursor)
    except InvalidArguments:
        return
    assert isinstance(result, dict)


def test_encode_refuses_non_json_values() -> None:
    with pytest.raises(ValueError):
        encode_cursor({"x": float("nan")})


def test_clamp_limit() -> None:
    assert clamp_limit(None, 30, 100) == 30
    assert clamp_limit(None, 500, 100) == 100
    assert clamp_limit(1, 30, 100) == 1
    assert clamp_limit(250, 30, 100) == 100
    with pytest.raises(InvalidArguments, match="at least 1") as info:
        clamp_limit(0, 30, 100)
    assert info.value.errors == [("limit", "must be at least 1")]
    with pytest.raises(InvalidArguments):
        clamp_limit(-3, 30, 100)


def test_next_link() -> None:
    response = UpstreamResponse(
        200,
        headers={"Link": '<https://api.github.com/user/repos?page=2>; rel="next", <?page=5>; rel="last"'},
        url="https://api.github.com/user/repos?page=1",
    )
    assert next_link(response) == "https://api.github.com/user/repos?page=2"
    assert next_link(UpstreamResponse(200, headers={"Link": '<?page=1>; rel="prev"'})) is None
    assert next_link(UpstreamResponse(200)) is None


class Repo(BaseModel):
    name: str


def test_page_is_a_generic_model() -> None:
    page = Page[Repo](items=[Repo(name="a")], next_cursor=encode_cursor({"page": 2}))
    assert page.model_dump() == {
        "items": [{"name": "a"}],
        "next_cursor": encode_cursor({"page": 2}),
        "truncated": False,
    }
    assert Page[Repo].model_validate({"items": [{"name": "b"}]}).items == [Repo(name="b")]
    assert Page[Repo].model_json_schema()["properties"]["items"]["items"] == {"$ref": "#/$defs/Repo"}
    with pytest.raises(ValidationError):
        Page[Repo].model_validate({"items": [{"nom": "b"}]})
