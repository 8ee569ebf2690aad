from __future__ import annotations

import base64
import re
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sagemcp import (
    MAX_CURSOR_LENGTH,
    Connector,
    ConnectorInfo,
    Cursor,
    Limit,
    Page,
    ToolContext,
    UpstreamResponse,
    clamp_limit,
    current_cursor_tool,
    cursor_scope,
    decode_cursor,
    encode_cursor,
    next_link,
    tool,
)
from sagemcp.errors import DefinitionError, InvalidArguments, InvalidCursor
from sagemcp.testing import call_tool

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
cursor_data = st.dictionaries(st.text(max_size=12), json_values, max_size=6)


@given(cursor_data)
def test_cursor_round_trip(data: dict[str, Any]) -> None:
    cursor = encode_cursor(data, tool="demo_list")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert decode_cursor(cursor, tool="demo_list") == data


def test_cursor_is_compact_deterministic_and_names_its_tool() -> None:
    cursor = encode_cursor({"page": 2, "after": "Y3Vyc29y=="}, tool="demo_list")
    assert cursor == encode_cursor({"after": "Y3Vyc29y==", "page": 2}, tool="demo_list")
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert raw[4:] == b'{"s":{"after":"Y3Vyc29y==","page":2},"t":"demo_list"}'
    assert len(cursor) < 80


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "%%%%",
        "abc",
        base64.urlsafe_b64encode(b'{"s":{},"t":"demo_list"}').decode(),  # no checksum
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe\x00\x01\x02").decode(),
        encode_cursor({"a": "b"}, tool="demo_list") + "!",
        encode_cursor({"page": 2}, tool="demo_list")[:-3],  # cut
        "A" * (MAX_CURSOR_LENGTH + 4),
    ],
)
def test_garbage_cursors_are_refused_with_one_clear_error(cursor: str) -> None:
    with pytest.raises(InvalidCursor, match="not valid for demo_list") as info:
        decode_cursor(cursor, tool="demo_list")
    assert isinstance(info.value, InvalidArguments)
    assert info.value.code == "invalid_cursor"
    assert [field for field, _ in info.value.errors] == ["cursor"]
    assert "call demo_list again without a cursor" in info.value.message


def test_an_edited_cursor_fails_its_checksum() -> None:
    cursor = encode_cursor({"page": 2}, tool="demo_list")
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[raw.index(b"2")] = ord("9")  # page 2 -> page 9, checksum unchanged
    edited = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidCursor, match="cut or changed"):
        decode_cursor(edited, tool="demo_list")


def test_a_cursor_of_another_tool_is_refused() -> None:
    cursor = encode_cursor({"page": 2}, tool="demo_list_users")
    with pytest.raises(InvalidCursor) as info:
        decode_cursor(cursor, tool="demo_list_groups")
    assert info.value.message.startswith(
        "this cursor is not valid for this tool (it came from demo_list_users); call demo_list_groups again "
        "without a cursor"
    )
    assert info.value.errors == [("cursor", "made by another tool")]


def test_bound_cursors_need_the_same_arguments() -> None:
    cursor = encode_cursor({"page": 2}, tool="demo_list", bind={"owner": "octo", "repo": "a"})
    assert decode_cursor(cursor, tool="demo_list", bind={"repo": "a", "owner": "octo"}) == {"page": 2}
    with pytest.raises(InvalidCursor, match="other values of owner, repo") as info:
        decode_cursor(cursor, tool="demo_list", bind={"owner": "octo", "repo": "b"})
    assert "call demo_list again with the same owner, repo" in info.value.message.lower()
    assert "octo" not in cursor and "octo" not in base64.urlsafe_b64decode(cursor + "===").decode("latin-1")


@given(st.text(max_size=200))
def test_decode_never_raises_anything_else(cursor: str) -> None:
    try:
        result = decode_cursor(cursor, tool="demo_list")
    except InvalidCursor:
        return
    assert isinstance(result, dict)


def test_encode_refuses_non_json_values_and_oversized_state() -> None:
    with pytest.raises(ValueError):
        encode_cursor({"x": float("nan")}, tool="demo_list")
    with pytest.raises(ValueError, match="too large"):
        encode_cursor({"x": "y" * MAX_CURSOR_LENGTH}, tool="demo_list")


def test_outside_a_tool_the_tool_must_be_named() -> None:
    assert current_cursor_tool() is None
    with pytest.raises(DefinitionError, match="tool="):
        encode_cursor({"page": 2})
    with cursor_scope("demo_list"):
        assert current_cursor_tool() == "demo_list"
        cursor = encode_cursor({"page": 2})
        with cursor_scope("demo_other"):
            assert current_cursor_tool() == "demo_other"
        assert decode_cursor(cursor) == {"page": 2}
    assert current_cursor_tool() is None


class Item(BaseModel):
    n: int


class Listing(Connector):
    info = ConnectorInfo(id="listing", title="Listing", description="Lists numbers, to test cursors.")

    @tool(read_only=True, group="read")
    async def numbers(
        self, ctx: ToolContext, limit: Annotated[int, Limit(maximum=50)] = 10, cursor: Cursor = None
    ) -> Page[Item]:
        """Numbers from 0 to 99, a page at a time."""
        start = decode_cursor(cursor)["o"] if cursor else 0
        end = min(start + limit, 100)
        return Page[Item](
            items=[Item(n=i) for i in range(start, end)], next_cursor=encode_cursor({"o": end}) if end < 100 else None
        )

    @tool(read_only=True, group="read")
    async def letters(
        self, ctx: ToolContext, limit: Annotated[int, Limit(maximum=26, what="Letters")] = 26, cursor: Cursor = None
    ) -> Page[Item]:
        """The alphabet's positions, a page at a time."""
        start = decode_cursor(cursor)["o"] if cursor else 0
        return Page[Item](items=[Item(n=i) for i in range(start, min(start + limit, 26))])


def test_limit_schema_names_bounds_and_default() -> None:
    numbers = Listing.tools["listing_numbers"].input_schema["properties"]
    assert numbers["limit"] == {
        "default": 10,
        "description": "Items per page.",
        "maximum": 50,
        "minimum": 1,
        "type": "integer",
    }
    assert Listing.tools["listing_letters"].input_schema["properties"]["limit"]["description"] == "Letters per page."
    assert numbers["cursor"]["maxLength"] == MAX_CURSOR_LENGTH
    assert numbers["cursor"]["type"] == "string"
    assert "next_cursor" in numbers["cursor"]["description"]


def test_limit_definitions_are_checked() -> None:
    with pytest.raises(DefinitionError, match="default from 1 to 50"):

        class TooBig(Connector):
            info = ConnectorInfo(id="toobig", title="T", description="d")

            @tool(read_only=True, group="g")
            async def things(self, ctx: ToolContext, limit: Annotated[int, Limit(maximum=50)] = 80) -> str:
                """Things."""
                return ""

    with pytest.raises(DefinitionError, match=r"Annotated\[int, Limit"):

        class NotInt(Connector):
            info = ConnectorInfo(id="notint", title="T", description="d")

            @tool(read_only=True, group="g")
            async def things(self, ctx: ToolContext, limit: Annotated[str, Limit()] = "5") -> str:
                """Things."""
                return ""

    with pytest.raises(DefinitionError, match="at least 1"):
        Limit(maximum=0)


async def test_limits_over_the_maximum_are_refused_with_the_bound() -> None:
    call = await call_tool(Listing, "numbers", {"limit": 51})
    assert call.is_error and "limit" in call.text and "50" in call.text
    for wrong in (0, "ten", 2.5):
        assert (await call_tool(Listing, "numbers", {"limit": wrong})).is_error


async def test_a_null_limit_means_the_default() -> None:
    call = await call_tool(Listing, "numbers", {"limit": None})
    assert not call.is_error and len(call.structured["items"]) == 10  # type: ignore[index]


async def test_paging_through_a_tool_and_refusing_another_tools_cursor() -> None:
    first = await call_tool(Listing, "numbers", {"limit": 40})
    assert [i["n"] for i in first.structured["items"]][-1] == 39  # type: ignore[index]
    cursor = first.structured["next_cursor"]  # type: ignore[index]
    second = await call_tool(Listing, "numbers", {"limit": 40, "cursor": cursor})
    assert second.structured["items"][0] == {"n": 40}  # type: ignore[index]

    wrong = await call_tool(Listing, "letters", {"cursor": cursor})
    assert wrong.is_error and isinstance(wrong.error, InvalidCursor)
    assert wrong.text == (
        "this cursor is not valid for this tool (it came from listing_numbers); call listing_letters again without "
        "a cursor, and pass it only the next_cursor of its own previous page."
    )
    garbage = await call_tool(Listing, "numbers", {"cursor": "bm9wZQ"})
    assert garbage.is_error and "call listing_numbers again without a cursor" in garbage.text


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
    cursor = encode_cursor({"page": 2}, tool="demo_list")
    page = Page[Repo](items=[Repo(name="a")], next_cursor=cursor)
    assert page.model_dump() == {"items": [{"name": "a"}], "next_cursor": cursor, "truncated": False}
    assert Page[Repo].model_validate({"items": [{"name": "b"}]}).items == [Repo(name="b")]
    assert Page[Repo].model_json_schema()["properties"]["items"]["items"] == {"$ref": "#/$defs/Repo"}
    with pytest.raises(ValidationError):
        Page[Repo].model_validate({"items": [{"nom": "b"}]})
