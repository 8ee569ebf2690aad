"""Contract checks: a good connector passes; each deliberate defect is caught, naming the tool and the fix."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from sagemcp import ApiKey, Connector, ConnectorInfo, Credential, OAuth2, ToolAnnotations, ToolSpec, resource, tool
from sagemcp.testing import assert_connector_valid, check_connector


class Thing(BaseModel):
    id: int
    name: str


class ThingPage(BaseModel):
    items: list[Thing]
    next_cursor: str | None = None


class Good(Connector):
    info = ConnectorInfo(
        id="good", title="Good", description="A well-behaved connector for tests.", default_groups=("read",)
    )
    auth = (
        OAuth2(
            authorize_url="https://good.example/oauth/authorize",
            token_url="https://good.example/oauth/token",
        ),
    )
    base_url = "https://api.good.example"

    @tool(read_only=True, group="read")
    async def list_things(
        self,
        ctx: Any,
        query: Annotated[str | None, Field(description="Only things whose name contains this text.")] = None,
        limit: Annotated[int | None, Field(ge=1, le=100)] = None,
        cursor: str | None = None,
    ) -> ThingPage:
        """List the things of the connected account, newest first."""
        return ThingPage(items=[])

    @tool(read_only=True, group="read")
    async def get_thing(
        self, ctx: Any, thing_id: Annotated[int, Field(description="The thing's numeric id.")]
    ) -> Thing:
        """Get one thing by its id, with all its fields."""
        return Thing(id=thing_id, name="x")

    @tool(read_only=False, destructive=True, group="write", scopes=("things:write",))
    async def delete_thing(self, ctx: Any, thing_id: Annotated[int, Field(description="The thing to delete.")]) -> str:
        """Delete a thing for good; it cannot be restored."""
        return "deleted"

    @resource("good://things/{thing_id}", description="One thing as JSON.")
    async def thing_resource(self, ctx: Any, thing_id: str) -> str:
        return "{}"


def broken(**attrs: Any) -> type[Connector]:
    """A copy of `Good` with class attributes replaced after definition (bypassing the definition-time checks)."""
    cls = type("Broken", (Good,), {})
    for name, value in attrs.items():
        setattr(cls, name, value)
    return cls


def with_tool(tool_name: str, /, **changes: Any) -> dict[str, ToolSpec]:
    tools = dict(Good.tools)
    spec = dataclasses.replace(tools.pop(tool_name), **changes)
    tools[spec.name] = spec
    return tools


def only_problem(cls: Any, *fragments: str) -> str:
    problems = check_connector(cls)
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0], problems[0]
    return problems[0]


def test_good_connector_passes() -> None:
    assert check_connector(Good) == []
    assert_connector_valid(Good)


def test_not_a_connector_class() -> None:
    assert "not a subclass of sagemcp.Connector" in check_connector(dict)[0]


def test_info_must_be_connector_info() -> None:
    only_problem(broken(info={"id": "good"}), "Broken.info must be a ConnectorInfo")


def test_info_needs_a_description() -> None:
    info = ConnectorInfo.model_construct(id="good", title="Good", description=" ", default_groups=None)
    only_problem(broken(info=info), "info.description is empty")


def test_at_least_one_tool() -> None:
    problems = check_connector(broken(tools={}))
    assert any("declares no tools" in p for p in problems)


def test_tool_name_must_carry_the_connector_prefix() -> None:
    only_problem(broken(tools=with_tool("good_get_thing", name="other_get_thing")), "other_get_thing", "'good_'")


def test_tool_name_must_be_lowercase() -> None:
    only_problem(broken(tools=with_tool("good_get_thing", name="good_getThing")), "good_getThing", "lowercase")


def test_tool_name_at_most_64_characters() -> None:
    name = "good_" + "x" * 60
    only_problem(broken(tools=with_tool("good_get_thing", name=name)), name, "over 64")


def test_tool_names_unique() -> None:
    tools = dict(Good.tools)
    tools["good_copy"] = tools["good_get_thing"]
    problems = check_connector(broken(tools=tools))
    assert any("used by two tools" in p and p.startswith("good_get_thing") for p in problems), problems


def test_description_at_least_20_characters() -> None:
    only_problem(broken(tools=with_tool("good_get_thing", description="Gets it.")), "good_get_thing", "under 20")


def test_input_schema_must_be_valid_json_schema() -> None:
    schema = {"type": "object", "properties": {"thing_id": {"type": "int", "description": "The id."}}}
    message = only_problem(broken(tools=with_tool("good_get_thing", input_schema=schema)), "good_get_thing")
    assert "not a valid JSON Schema" in message and "properties/thing_id/type" in message


def test_input_schema_must_be_an_object() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    only_problem(broken(tools=with_tool("good_get_thing", input_schema=schema)), "good_get_thing", "not 'object'")


def test_output_schema_must_be_valid_and_an_object() -> None:
    bad = {"type": "object", "required": "id"}
    assert "output schema is not a valid JSON Schema" in only_problem(
        broken(tools=with_tool("good_get_thing", output_schema=bad))
    )
    only_problem(
        broken(tools=with_tool("good_get_thing", output_schema={"type": "string"})), "output schema", "'string'"
    )


def test_every_parameter_needs_a_description() -> None:
    class Undescribed(Connector):
        info = ConnectorInfo(id="undescribed", title="U", description="Parameters without descriptions.")
        base_url = "https://api.example.com"

        @tool(read_only=True, group="read")
        async def list_items(
            self, ctx: Any, owner: str, limit: Annotated[int | None, Field(le=50)] = None, cursor: str | None = None
        ) -> str:
            """List the items of an owner, a page at a time."""
            return ""

    problem = only_problem(Undescribed, "undescribed_list_items", "'owner'", "Field(description=")
    assert "limit" not in problem and "cursor" not in problem


def test_list_tools_need_limit_with_maximum_and_cursor() -> None:
    class Lists(Connector):
        info = ConnectorInfo(id="lists", title="L", description="List tools without paging.")
        base_url = "https://api.example.com"

        @tool(read_only=True, group="read")
        async def list_items(self, ctx: Any) -> str:
            """List every item there is, all at once."""
            return ""

        @tool(read_only=True, group="read")
        async def search_items(self, ctx: Any, limit: int = 10, cursor: str | None = None) -> str:
            """Search items by any text they contain."""
            return ""

    problems = check_connector(Lists)
    assert any(p.startswith("lists_list_items") and "`limit" in p for p in problems)
    assert any(p.startswith("lists_list_items") and "`cursor" in p for p in problems)
    assert any(p.startswith("lists_search_items") and "'limit' has no maximum" in p for p in problems)
    assert len(problems) == 3, problems


def test_read_only_tools_cannot_be_destructive() -> None:
    annotations = ToolAnnotations(read_only=True, destructive=True, idempotent=True)
    only_problem(broken(tools=with_tool("good_get_thing", annotations=annotations)), "good_get_thing", "destructive")


def test_annotations_must_be_present() -> None:
    only_problem(broken(tools=with_tool("good_get_thing", annotations=None)), "good_get_thing", "annotations")


def test_every_tool_needs_a_group() -> None:
    only_problem(broken(tools=with_tool("good_get_thing", group="")), "good_get_thing", "no valid group")


def test_default_groups_must_exist() -> None:
    info = ConnectorInfo(id="good", title="Good", description="A connector.", default_groups=("read", "admin"))
    only_problem(broken(info=info), "default_groups names 'admin'")


def test_oauth2_needs_both_urls_over_https() -> None:
    missing = OAuth2(authorize_url="https://good.example/authorize")
    only_problem(broken(auth=(missing,)), "OAuth2", "token_url is empty")
    plain = OAuth2(authorize_url="http://good.example/authorize", token_url="https://good.example/token")
    only_problem(broken(auth=(plain,)), "authorize_url 'http://good.example/authorize'", "https://")


def test_api_key_format_needs_token_placeholder() -> None:
    only_problem(broken(auth=(ApiKey(format="Token"),)), "ApiKey", "{token}")


def test_auth_must_not_be_empty() -> None:
    only_problem(broken(auth=()), "auth is empty")


def test_resource_uris_must_be_well_formed() -> None:
    spec = Good.resources[0]
    for uri in ("things/{thing_id}", "good://things/{thing_id", "good://a thing"):
        only_problem(broken(resources=(dataclasses.replace(spec, uri=uri),)), repr(uri), "good://things/{id}")


def test_base_url_must_be_https() -> None:
    only_problem(broken(base_url="http://api.good.example"), "base_url 'http://api.good.example'", "https://")


def test_empty_base_url_needs_api_base_url_override() -> None:
    only_problem(broken(base_url=""), "base_url is empty", "api_base_url(config, credential)")

    class Computed(Good):
        @classmethod
        def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
            return "https://tenant.good.example"

    Computed.base_url = ""
    assert check_connector(Computed) == []


def test_assert_connector_valid_lists_every_problem() -> None:
    cls = broken(base_url="http://x.example", tools=with_tool("good_get_thing", description="Short."))
    with pytest.raises(AssertionError) as info:
        assert_connector_valid(cls)
    message = str(info.value)
    assert "2 problem(s)" in message
    assert "good_get_thing: the description 'Short.'" in message
    assert "base_url 'http://x.example'" in message
