"""Reading upstream answers by shape (`json_object`, `json_list`), and retrying POSTs that only read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sagemcp import BoundClient, UpstreamResponse
from sagemcp.errors import UpstreamBadResponse, UpstreamServerError, UpstreamUnexpectedShape
from sagemcp.platform import UpstreamClient


def answer(body: Any, *, status: int = 200) -> UpstreamResponse:
    content = body if isinstance(body, bytes) else httpx.Response(200, json=body).content
    return UpstreamResponse(
        status,
        content=content,
        url="https://api.example.com/v1/things?page=2&token=s3cret",
        method="GET",
        provider="example",
    )


def test_json_object() -> None:
    assert answer({"a": 1}).json_object() == {"a": 1}
    with pytest.raises(UpstreamUnexpectedShape) as info:
        answer([1, 2]).json_object()
    error = info.value
    assert isinstance(error, UpstreamBadResponse) and error.code == "upstream_unexpected_shape"
    assert error.message.startswith(
        "example returned an unexpected response to GET /v1/things: expected a JSON object, got a JSON list"
    )
    assert "s3cret" not in error.message and error.status == 200 and error.provider == "example"


def test_json_list_whole_body_and_under_a_key() -> None:
    assert answer([1, "x", None]).json_list() == [1, "x", None]
    assert answer({"items": [{"id": 1}, None, {"id": 2}, "odd"]}).json_list("items", of=dict) == [{"id": 1}, {"id": 2}]
    assert answer({"users": ["U1", 7, "U2"]}).json_list("users", of=str) == ["U1", "U2"]


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ({"items": []}, None, "expected a JSON list, got a JSON object"),
        ([], "items", "expected a JSON object with a 'items' list, got a JSON list"),
        ({"items": None}, "items", "expected a 'items' list in the JSON object, got null"),
        ({"other": []}, "items", "expected a 'items' list in the JSON object, got null"),
        ({"items": "many"}, "items", "expected a 'items' list in the JSON object, got a string"),
        (7, None, "expected a JSON list, got a number"),
    ],
)
def test_json_list_shape_errors(body: Any, key: str | None, expected: str) -> None:
    with pytest.raises(UpstreamUnexpectedShape, match=expected):
        answer(body).json_list(key)


def test_invalid_json_is_still_a_bad_response() -> None:
    with pytest.raises(UpstreamBadResponse, match="invalid JSON") as info:
        answer(b"<html>").json_object()
    assert not isinstance(info.value, UpstreamUnexpectedShape)


class Upstream:
    """Answers 503 with Retry-After once, then 200; records requests and the client's sleeps."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) == 1:
            return httpx.Response(503, headers={"Retry-After": "2"}, json={"message": "busy"})
        return httpx.Response(200, json={"issues": []})

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, BoundClient]]:
    fake = Upstream()
    async with UpstreamClient(transport=httpx.MockTransport(fake.handler), sleep=fake.sleep) as client:
        yield fake, client.bind(base_url="https://jira.example/rest/api/3", provider="jira")


async def test_a_post_marked_idempotent_is_retried_after_retry_after(upstream: tuple[Upstream, BoundClient]) -> None:
    fake, http = upstream
    response = await http.post("search/jql", json={"jql": "project = X"}, idempotent=True)
    assert response.json_object() == {"issues": []}
    assert [(r.method, r.url.path) for r in fake.requests] == [("POST", "/rest/api/3/search/jql")] * 2
    assert fake.requests[1].content == fake.requests[0].content == b'{"jql":"project = X"}'
    assert fake.sleeps == [2.0]


async def test_an_unmarked_post_is_never_repeated(upstream: tuple[Upstream, BoundClient]) -> None:
    fake, http = upstream
    with pytest.raises(UpstreamServerError, match="503"):
        await http.post("issue", json={"fields": {}})
    assert len(fake.requests) == 1 and fake.sleeps == []


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_take_the_mark_too(upstream: tuple[Upstream, BoundClient], method: str) -> None:
    fake, http = upstream
    send = {"PUT": http.put, "PATCH": http.patch, "DELETE": http.delete}[method]
    await send("things/1", json={}, idempotent=True)
    assert len(fake.requests) == 2


async def test_idempotent_false_keeps_a_put_from_being_repeated(upstream: tuple[Upstream, BoundClient]) -> None:
    fake, http = upstream
    with pytest.raises(UpstreamServerError):
        await http.put("things/1/merge", json={}, idempotent=False)
    assert len(fake.requests) == 1
