"""call_tool: one tool call as the platform runs it, against a MockTransport."""

from __future__ import annotations

import json
from typing import Annotated

import httpx
import pytest
from pydantic import BaseModel, Field

from sagemcp import (
    ApiKey,
    Connector,
    ConnectorInfo,
    ConnectorSettings,
    Credential,
    NoAuth,
    OAuth2,
    ToolContext,
    UpstreamResponse,
    tool,
)
from sagemcp.errors import (
    InvalidArguments,
    ReadOnlyViolation,
    ToolDisabled,
    ToolNotFound,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamNotFound,
)
from sagemcp.platform import ToolPolicy
from sagemcp.testing import ToolCall, call_tool, fake_credential


class Issue(BaseModel):
    number: int
    title: str
    state: str


class DemoSettings(ConnectorSettings):
    host: str = "api.demo.example"


class Demo(Connector):
    info = ConnectorInfo(id="demo", title="Demo", description="Issues of a demo tracker.", default_groups=("read",))
    auth = (OAuth2(authorize_url="https://demo.example/authorize", token_url="https://demo.example/token"),)
    Config = DemoSettings

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        assert isinstance(config, DemoSettings)
        return f"https://{config.host}/v1"

    def upstream_headers(self, config: BaseModel, credential: Credential | None) -> dict[str, str]:
        return {"X-Demo-Version": "2024-01-01"}

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        if response.ok and response.content.startswith(b'{"ok":false'):
            return UpstreamBadRequest(f"demo said {response.json()['error']}")
        return None

    @tool(read_only=True, group="read")
    async def get_issue(
        self, ctx: ToolContext, number: Annotated[int, Field(description="The issue number.", ge=1)]
    ) -> Issue:
        """Get one issue of the tracker by its number."""
        response = await ctx.http.get(f"issues/{number}", params={"fields": "all"})
        return Issue.model_validate(response.json())

    @tool(read_only=False, group="write")
    async def create_issue(self, ctx: ToolContext, title: Annotated[str, Field(description="The title.")]) -> Issue:
        """Create an issue in the tracker and return it."""
        response = await ctx.http.post("issues", json={"title": title})
        return Issue.model_validate(response.json())

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> str:
        """Who the tool runs as: tenant, connector and account."""
        assert ctx.credential is not None
        return f"{ctx.tenant.slug}/{ctx.connector.name}/{ctx.credential.account}/{ctx.request_id}"

    @tool(read_only=True, group="read")
    async def crash(self, ctx: ToolContext) -> str:
        """A tool with a bug in it, for the test suite."""
        raise RuntimeError("bug in the connector")


def issue_handler(request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        number = int(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(200, json={"number": number, "title": "Broken build", "state": "open"})
    body = json.loads(request.content)
    return httpx.Response(201, json={"number": 7, "title": body["title"], "state": "open"})


async def test_returns_structured_output_and_records_the_request() -> None:
    call = await call_tool(Demo, "demo_get_issue", {"number": 42}, handler=issue_handler)

    assert isinstance(call, ToolCall)
    assert not call.is_error and call.error is None
    assert call.value == Issue(number=42, title="Broken build", state="open")
    assert call.structured == {"number": 42, "title": "Broken build", "state": "open"}
    assert json.loads(call.text) == call.structured
    request = call.request
    assert str(request.url) == "https://api.demo.example/v1/issues/42?fields=all"
    assert request.headers["authorization"] == "Bearer test-token"
    assert request.headers["x-demo-version"] == "2024-01-01"


async def test_request_bodies_are_readable() -> None:
    call = await call_tool(Demo, "create_issue", {"title": "New"}, handler=issue_handler)
    assert call.structured == {"number": 7, "title": "New", "state": "open"}
    assert json.loads(call.requests[0].content) == {"title": "New"}
    assert call.requests[0].method == "POST"


async def test_config_and_credential_are_used() -> None:
    credential = Credential(tenant_id="t", provider="demo", kind="oauth2", access_token="other-token", account="ann")
    call = await call_tool(
        Demo, "demo_get_issue", {"number": 1}, handler=issue_handler, credential=credential,
        config={"host": "tracker.acme.example"},
    )  # fmt: skip
    assert call.request.url.host == "tracker.acme.example"
    assert call.request.headers["authorization"] == "Bearer other-token"
    who = await call_tool(Demo, "demo_whoami", credential=credential)
    assert who.text == "test/demo/ann/test-request"
    assert who.structured is None and who.requests == []


async def test_invalid_arguments_name_the_field_and_send_nothing() -> None:
    call = await call_tool(Demo, "demo_get_issue", {"number": "forty-two"}, handler=issue_handler)
    assert call.is_error
    assert isinstance(call.error, InvalidArguments)
    assert "number" in call.text and call.text.startswith("Invalid arguments for demo_get_issue")
    assert call.requests == []

    missing = await call_tool(Demo, "demo_get_issue", {}, handler=issue_handler)
    assert missing.is_error and ("number", "Field required") in missing.error.errors  # type: ignore[union-attr]


async def test_upstream_404_is_an_error_result_with_the_adapter_text() -> None:
    def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": "Issue not found"})

    call = await call_tool(Demo, "demo_get_issue", {"number": 9}, handler=not_found)
    assert call.is_error
    assert isinstance(call.error, UpstreamNotFound)
    assert call.text.startswith("Demo error (HTTP 404): demo found nothing at GET /v1/issues/9 (404): Issue not found")
    assert call.value is None and call.structured is None
    assert len(call.requests) == 1


async def test_check_response_hook_is_applied() -> None:
    call = await call_tool(
        Demo,
        "demo_get_issue",
        {"number": 1},
        handler=lambda r: httpx.Response(200, json={"ok": False, "error": "nope"}),
    )
    assert call.is_error and isinstance(call.error, UpstreamBadRequest)
    assert "demo said nope" in call.text


async def test_retries_happen_without_waiting() -> None:
    issue = {"number": 1, "title": "t", "state": "open"}
    answers = iter([httpx.Response(503, headers={"Retry-After": "20"}), httpx.Response(200, json=issue)])
    call = await call_tool(Demo, "demo_get_issue", {"number": 1}, handler=lambda r: next(answers))
    assert [r.url.path for r in call.requests] == ["/v1/issues/1", "/v1/issues/1"]
    assert call.structured == issue


async def test_disabled_tool_is_refused() -> None:
    policy = ToolPolicy(exclude_tools=["demo_get_issue"])
    call = await call_tool(Demo, "demo_get_issue", {"number": 1}, handler=issue_handler, policy=policy)
    assert call.is_error and isinstance(call.error, ToolDisabled)
    assert "demo_get_issue is disabled for connector 'demo': excluded by name in its tool policy" in call.text
    assert call.requests == []


async def test_default_groups_apply_when_the_policy_is_given() -> None:
    enabled = await call_tool(Demo, "demo_create_issue", {"title": "x"}, handler=issue_handler)
    assert not enabled.is_error  # default: every group enabled
    call = await call_tool(Demo, "demo_create_issue", {"title": "x"}, handler=issue_handler, policy=ToolPolicy())
    assert call.is_error and isinstance(call.error, ToolDisabled) and "group 'write'" in call.text


async def test_read_only_policy_refuses_write_tools() -> None:
    policy = ToolPolicy(read_only=True, groups=["read", "write"])
    call = await call_tool(Demo, "demo_create_issue", {"title": "x"}, handler=issue_handler, policy=policy)
    assert call.is_error and isinstance(call.error, ReadOnlyViolation)
    assert "read-only" in call.text


async def test_bugs_propagate() -> None:
    with pytest.raises(RuntimeError, match="bug in the connector"):
        await call_tool(Demo, "demo_crash")
    with pytest.raises(AssertionError, match="got no handler"):
        await call_tool(Demo, "demo_get_issue", {"number": 1})
    with pytest.raises(ToolNotFound, match="demo_get_issue"):
        await call_tool(Demo, "demo_nope")


async def test_async_handler_and_mock_transport() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"number": 3, "title": "t", "state": "closed"})

    call = await call_tool(Demo, "demo_get_issue", {"number": 3}, handler=handler)
    assert call.structured == {"number": 3, "title": "t", "state": "closed"}
    call = await call_tool(Demo, "demo_get_issue", {"number": 3}, handler=httpx.MockTransport(issue_handler))
    assert call.structured is not None and call.structured["number"] == 3


async def test_results_over_the_limit_are_errors() -> None:
    call = await call_tool(Demo, "demo_get_issue", {"number": 3}, handler=issue_handler, max_result_chars=10)
    assert call.is_error and call.error is None
    assert "over this server's limit of 10" in call.text


async def test_api_key_in_query_and_no_auth() -> None:
    class Keyed(Connector):
        info = ConnectorInfo(id="keyed", title="Keyed", description="An API with a key in the query.")
        auth = (ApiKey(query_param="key"),)
        base_url = "https://api.keyed.example"

        @tool(read_only=True, group="read")
        async def ping(self, ctx: ToolContext) -> str:
            """Ping the service to check the key works."""
            return (await ctx.http.get("ping")).text

    class Open(Connector):
        info = ConnectorInfo(id="open", title="Open", description="An API without credentials.")
        auth = (NoAuth(),)
        base_url = "https://api.open.example"
        ping = Keyed.ping

    call = await call_tool(Keyed, "keyed_ping", handler=lambda r: httpx.Response(200, text="pong"))
    assert call.text == "pong"
    assert call.request.url.params["key"] == "test-token"
    assert fake_credential(Open) is None
    call = await call_tool(Open, "open_ping", handler=lambda r: httpx.Response(200, text="pong"))
    assert "authorization" not in call.request.headers and "key" not in call.request.url.params
