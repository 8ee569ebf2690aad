from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sagemcp import BoundClient, RateLimit, UpstreamResponse, parse_retry_after
from sagemcp._upstream import map_status_error, parse_link_header, parse_rate_limit
from sagemcp.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamBadResponse,
    UpstreamConflict,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sagemcp.platform import UpstreamClient

TOKEN = "ghp_test-token-0123456789"
BASE = "https://api.example.com/v3"

Reply = httpx.Response | Exception | type[Exception] | Callable[[httpx.Request], httpx.Response]


@dataclass
class Harness:
    client: UpstreamClient
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    observed: list[tuple[str, str, int | None, float]] = field(default_factory=list)

    def bind(self, **kwargs: Any) -> BoundClient:
        options: dict[str, Any] = {
            "base_url": BASE,
            "provider": "github",
            "headers": {"Authorization": f"Bearer {TOKEN}"},
        }
        options.update(kwargs)
        return self.client.bind(**options)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Harness]]:
    """Build a client over MockTransport answering `replies` in order (the last one repeats)."""
    made: list[Harness] = []

    def factory(*replies: Reply, fake_clock: bool = False, **client_kwargs: Any) -> Harness:
        """`fake_clock=True` makes the client's clock advance only by the (fake) sleeps."""
        harness: Harness
        now = [0.0]

        def handler(request: httpx.Request) -> httpx.Response:
            harness.requests.append(request)
            reply = replies[min(len(harness.requests), len(replies)) - 1]
            if isinstance(reply, type):
                raise reply("simulated failure", request=request)
            if isinstance(reply, Exception):
                raise reply
            if isinstance(reply, httpx.Response):
                return reply
            return reply(request)

        async def fake_sleep(seconds: float) -> None:
            harness.sleeps.append(seconds)
            now[0] += seconds

        if fake_clock:
            client_kwargs["clock"] = lambda: now[0]
        client = UpstreamClient(
            transport=httpx.MockTransport(handler),
            sleep=fake_sleep,
            on_response=lambda *args: harness.observed.append(args),
            **client_kwargs,
        )
        harness = Harness(client)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        await harness.client.aclose()


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


async def raised(harness: Harness, method: str = "GET", url: str = "items", **kwargs: Any) -> UpstreamError:
    with pytest.raises(UpstreamError) as info:
        await harness.bind().request(method, url, **kwargs)
    return info.value


# --- requests as sent -------------------------------------------------------------------------------


async def test_request_carries_user_agent_bound_headers_and_params(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(200, {"ok": True}))
    bound = harness.bind(params={"key": "api-key-value-1"}, headers={"Authorization": f"Bearer {TOKEN}"})

    response = await bound.get("/repos/acme/app", params={"per_page": 5, "page": None, "draft": True})

    assert response.json() == {"ok": True}
    assert response.status == 200
    [sent] = harness.requests
    assert str(sent.url) == f"{BASE}/repos/acme/app?per_page=5&draft=true&key=api-key-value-1"
    assert sent.headers["user-agent"] == "sagemcp/0.1"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


async def test_relative_urls_join_the_base_path(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(200))
    bound = harness.bind(base_url="https://api.example.com/v3/")

    await bound.get("repos")
    await bound.get("/users/x?since=4")

    assert [str(r.url) for r in harness.requests] == [
        "https://api.example.com/v3/repos",
        "https://api.example.com/v3/users/x?since=4",
    ]


async def test_call_headers_and_body_are_sent(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(201, json={"id": 1}))
    bound = harness.bind(headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})

    await bound.post("issues", json={"title": "x"}, headers={"Accept": "application/vnd.raw"})
    await bound.put("form", data={"a": "1"})

    first, second = harness.requests
    assert first.method == "POST"
    assert json.loads(first.content) == {"title": "x"}
    assert first.headers["accept"] == "application/vnd.raw"
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert second.content == b"a=1"
    assert second.headers["content-type"] == "application/x-www-form-urlencoded"
    # a call's own headers are for that call only: the bound client's stay as they were bound
    assert second.headers["accept"] == "application/json"
    assert second.headers["authorization"] == f"Bearer {TOKEN}"
    assert second.headers["user-agent"] == "sagemcp/0.1"


async def test_absolute_next_link_on_same_host_keeps_its_query(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(200))
    bound = harness.bind(params={"key": "api-key-value-1"})

    await bound.get("https://api.example.com/v3/items?cursor=a%2Bb%3D%3D&key=api-key-value-1#top")

    [sent] = harness.requests
    assert str(sent.url) == "https://api.example.com/v3/items?cursor=a%2Bb%3D%3D&key=api-key-value-1"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/steal",
        "http://api.example.com/v3/items",
        "https://api.example.com:8443/v3/items",
        "//evil.example.net/steal",
        "https://api.example.com.evil.example.net/v3",
    ],
)
async def test_absolute_url_on_another_origin_is_never_sent(serve: Callable[..., Harness], url: str) -> None:
    harness = serve(httpx.Response(200))

    error = await raised(harness, url=url)

    assert isinstance(error, UpstreamBadResponse)
    assert harness.requests == []
    assert "refused" in error.message
    assert TOKEN not in error.message


def test_bind_rejects_base_url_with_query() -> None:
    client = UpstreamClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(ValueError, match="params="):
        client.bind(base_url="https://api.example.com/?key=x", provider="p")
    with pytest.raises(ValueError, match="absolute"):
        client.bind(base_url="/relative", provider="p")


async def test_context_manager_closes_the_pool() -> None:
    async with UpstreamClient(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as client:
        response = await client.bind(base_url=BASE, provider="p").delete("x")
        assert response.status == 204
    assert client._http.is_closed


# --- retries ----------------------------------------------------------------------------------------


async def test_post_on_503_is_sent_exactly_once(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(503), httpx.Response(200))

    error = await raised(harness, "POST", json={"a": 1})

    assert isinstance(error, UpstreamServerError)
    assert error.status == 503
    assert len(harness.requests) == 1
    assert harness.sleeps == []


async def test_post_on_connect_error_is_retried(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.ConnectError, httpx.Response(201, json={"id": 7}))

    response = await harness.bind().post("issues", json={"title": "x"})

    assert response.json() == {"id": 7}
    assert len(harness.requests) == 2
    assert len(harness.sleeps) == 1


@pytest.mark.parametrize("failure", [httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_post_on_timeouts_before_sending_is_retried(serve: Callable[..., Harness], failure: type) -> None:
    harness = serve(failure, httpx.Response(200))

    await harness.bind().post("x")

    assert len(harness.requests) == 2


async def test_get_on_503_is_retried_then_succeeds(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(503), httpx.Response(200, json=[1]))

    response = await harness.bind().get("items")

    assert response.json() == [1]
    assert len(harness.requests) == 2
    [wait] = harness.sleeps
    assert 0.1 <= wait <= 0.2


async def test_retries_stop_after_max_retries_with_growing_backoff(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(502), max_retries=3)

    error = await raised(harness)

    assert isinstance(error, UpstreamServerError)
    assert len(harness.requests) == 4
    assert len(harness.sleeps) == 3
    for attempt, wait in enumerate(harness.sleeps):
        assert 0.2 * 2**attempt * 0.5 <= wait <= 0.2 * 2**attempt


@pytest.mark.parametrize("status", [500, 501, 400, 404])
async def test_other_statuses_are_not_retried(serve: Callable[..., Harness], status: int) -> None:
    harness = serve(httpx.Response(status), httpx.Response(200))

    await raised(harness)

    assert len(harness.requests) == 1


async def test_idempotent_argument_overrides_the_method_default(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(503), httpx.Response(200))
    await harness.bind().post("search", idempotent=True)
    assert len(harness.requests) == 2

    harness = serve(httpx.Response(503), httpx.Response(200))
    with pytest.raises(UpstreamServerError):
        await harness.bind().get("items", idempotent=False)
    assert len(harness.requests) == 1


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError])
async def test_failures_after_sending_retry_only_idempotent_requests(
    serve: Callable[..., Harness], failure: type
) -> None:
    harness = serve(failure, httpx.Response(200))
    await harness.bind().get("items")
    assert len(harness.requests) == 2

    harness = serve(failure, httpx.Response(200))
    with pytest.raises((UpstreamTimeout, UpstreamUnavailable)):
        await harness.bind().patch("items/1", json={})
    assert len(harness.requests) == 1


async def test_retry_after_seconds_is_honoured(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))

    await harness.bind().get("items")

    assert harness.sleeps == [7.0]
    assert len(harness.requests) == 2


async def test_retry_after_http_date_is_honoured(serve: Callable[..., Harness]) -> None:
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    harness = serve(httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200))

    await harness.bind().get("items")

    [wait] = harness.sleeps
    assert 17 <= wait <= 20


async def test_rate_limit_reset_is_honoured_when_nothing_remains(serve: Callable[..., Harness]) -> None:
    reset = int(time.time()) + 12
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    harness = serve(httpx.Response(429, headers=headers), httpx.Response(200))

    await harness.bind().get("items")

    [wait] = harness.sleeps
    assert 10 <= wait <= 12


async def test_no_retry_when_the_wait_exceeds_the_deadline(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(429, headers={"Retry-After": "120"}), httpx.Response(200), retry_deadline=30)

    error = await raised(harness)

    assert isinstance(error, UpstreamRateLimited)
    assert error.retry_after == 120
    assert "retry after 120 seconds" in error.message
    assert len(harness.requests) == 1
    assert harness.sleeps == []


async def test_deadline_counts_time_already_spent(serve: Callable[..., Harness]) -> None:
    harness = serve(
        httpx.Response(429, headers={"Retry-After": "20"}), max_retries=5, retry_deadline=30, fake_clock=True
    )

    error = await raised(harness)

    assert isinstance(error, UpstreamRateLimited)
    assert harness.sleeps == [20.0]
    assert len(harness.requests) == 2


async def test_post_on_429_is_not_retried(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200))

    error = await raised(harness, "POST")

    assert isinstance(error, UpstreamRateLimited)
    assert error.retry_after == 1
    assert len(harness.requests) == 1


async def test_on_response_is_called_once_per_attempt(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.ConnectError, httpx.Response(503), httpx.Response(200))

    await harness.bind().get("items")

    assert [(p, m, s) for p, m, s, _ in harness.observed] == [
        ("github", "GET", None),
        ("github", "GET", 503),
        ("github", "GET", 200),
    ]
    assert all(seconds >= 0 for *_, seconds in harness.observed)


async def test_a_failing_on_response_hook_does_not_fail_the_call() -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("metrics down")

    async with UpstreamClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200)), on_response=broken
    ) as client:
        response = await client.bind(base_url=BASE, provider="p").get("x")
    assert response.status == 200


# --- error mapping ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, UpstreamBadRequest),
        (401, UpstreamAuthError),
        (403, UpstreamForbidden),
        (404, UpstreamNotFound),
        (405, UpstreamBadRequest),
        (409, UpstreamConflict),
        (410, UpstreamBadRequest),
        (422, UpstreamConflict),
        (429, UpstreamRateLimited),
        (500, UpstreamServerError),
        (502, UpstreamServerError),
        (503, UpstreamServerError),
        (504, UpstreamServerError),
    ],
)
async def test_status_mapping(serve: Callable[..., Harness], status: int, kind: type[UpstreamError]) -> None:
    harness = serve(json_reply(status, {"message": "upstream says no"}), max_retries=0)

    error = await raised(harness, url="repos/acme/app")

    assert type(error) is kind
    assert error.status == status
    assert error.provider == "github"
    assert "upstream says no" in error.message
    assert "GET /v3/repos/acme/app" in error.message


async def test_401_tells_to_reconnect(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(401, {"message": "Bad credentials"}))

    error = await raised(harness)

    assert isinstance(error, UpstreamAuthError)
    assert "rejected the credential (401)" in error.message
    assert "Bad credentials" in error.message
    assert "reconnect github for this tenant" in error.message


async def test_github_secondary_rate_limit_403_with_retry_after(serve: Callable[..., Harness]) -> None:
    body = {"message": "You have exceeded a secondary rate limit."}
    harness = serve(json_reply(403, body, {"Retry-After": "60"}), json_reply(200, {}))

    error = await raised(harness)

    assert isinstance(error, UpstreamRateLimited)
    assert error.status == 403
    assert error.retry_after == 60
    assert "secondary rate limit" in error.message
    assert len(harness.requests) == 1


async def test_github_primary_rate_limit_403_with_nothing_remaining(serve: Callable[..., Harness]) -> None:
    reset = int(time.time()) + 5
    headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    harness = serve(json_reply(403, {"message": "API rate limit exceeded"}, headers), json_reply(200, {}))

    response = await harness.bind().get("items")

    assert response.status == 200
    assert len(harness.requests) == 2
    [wait] = harness.sleeps
    assert 3 <= wait <= 5


async def test_403_with_quota_left_is_forbidden(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(403, {"message": "Must have admin rights"}, {"X-RateLimit-Remaining": "4999"}))

    error = await raised(harness)

    assert isinstance(error, UpstreamForbidden)
    assert error.missing_scopes == []
    assert "Must have admin rights" in error.message
    assert "permissions" in error.message
    assert len(harness.requests) == 1


async def test_403_names_missing_github_scopes(serve: Callable[..., Harness]) -> None:
    headers = {"X-Accepted-OAuth-Scopes": "repo", "X-OAuth-Scopes": "read:user, gist"}
    harness = serve(json_reply(403, {"message": "Resource not accessible by integration"}, headers))

    error = await raised(harness)

    assert isinstance(error, UpstreamForbidden)
    assert error.missing_scopes == ["repo"]
    assert "lacks scope `repo`" in error.message
    assert "reconnect github" in error.message


async def test_403_with_a_granted_accepted_scope_names_none(serve: Callable[..., Harness]) -> None:
    headers = {"X-Accepted-OAuth-Scopes": "admin:org, read:org", "X-OAuth-Scopes": "read:org, repo"}
    harness = serve(json_reply(403, {"message": "no"}, headers))

    error = await raised(harness)

    assert isinstance(error, UpstreamForbidden)
    assert error.missing_scopes == []


async def test_403_insufficient_scope_challenge(serve: Callable[..., Harness]) -> None:
    challenge = 'Bearer error="insufficient_scope", scope="files.read files.write"'
    harness = serve(httpx.Response(403, headers={"WWW-Authenticate": challenge}))

    error = await raised(harness)

    assert isinstance(error, UpstreamForbidden)
    assert error.missing_scopes == ["files.read", "files.write"]
    assert "one of `files.read`, `files.write`" in error.message


@pytest.mark.parametrize(
    ("body", "expected", "code"),
    [
        ({"message": "Not Found", "documentation_url": "https://docs"}, "Not Found", None),
        (
            {"errorMessages": ["Issue does not exist or you do not have permission"], "errors": {}},
            "Issue does not",
            None,
        ),
        ({"errorMessages": [], "errors": {"summary": "You must specify a summary."}}, "summary: You must", None),
        (
            {"error": {"code": 404, "message": "File not found: abc.", "status": "NOT_FOUND"}},
            "File not found: abc.",
            "NOT_FOUND",
        ),
        (
            {"error": "invalid_grant", "error_description": "Token has expired"},
            "invalid_grant: Token has expired",
            "invalid_grant",
        ),
        ({"ok": False, "error": "channel_not_found"}, "channel_not_found", "channel_not_found"),
        (
            {
                "message": "Validation Failed",
                "errors": [{"resource": "Issue", "field": "title", "code": "missing_field"}],
            },
            "Validation Failed; Issue title missing_field",
            None,
        ),
    ],
)
async def test_upstream_error_envelopes(
    serve: Callable[..., Harness], body: dict[str, Any], expected: str, code: str | None
) -> None:
    harness = serve(json_reply(404, body))

    error = await raised(harness)

    assert expected in error.message
    assert error.upstream_code == code


async def test_upstream_message_is_truncated(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(400, {"message": "x" * 5000}))

    error = await raised(harness)

    assert "x" * 299 + "…" in error.message
    assert "x" * 300 not in error.message


async def test_html_bodies_stay_out_of_messages_and_text_bodies_get_in(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(502, html="<html><body>Bad Gateway page</body></html>"), max_retries=0)
    error = await raised(harness)
    assert "<html>" not in error.message
    assert error.message.startswith("github failed on GET /v3/items (502); ")

    harness = serve(httpx.Response(400, text="  missing\nparameter q  "))
    error = await raised(harness)
    assert "(400): missing parameter q; check the arguments." in error.message


async def test_messages_never_contain_the_query_string(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(500, {"message": "boom"}))

    error = await raised(harness, url="search?q=private-query-text&access_token=zzz")

    assert "private-query-text" not in error.message
    assert "access_token" not in error.message
    assert "GET /v3/search" in error.message


async def test_messages_never_contain_the_token(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(401, {"message": f"token Bearer {TOKEN} was revoked"}))
    error = await raised(harness)
    assert TOKEN not in error.message
    assert TOKEN not in str(error)
    assert "[redacted]" in error.message

    harness = serve(json_reply(400, {"message": "bad key api-key-value-1"}))
    with pytest.raises(UpstreamBadRequest) as info:
        await harness.bind(params={"key": "api-key-value-1"}).get("x")
    assert "api-key-value-1" not in info.value.message

    harness = serve(httpx.ConnectError(f"proxy refused {TOKEN}"), max_retries=0)
    error = await raised(harness)
    assert isinstance(error, UpstreamUnavailable)
    assert TOKEN not in error.message


UNIFORM = (
    "could not reach github for {where}: no connection, or no answer within {timeout} seconds. Check the "
    "connector's base URL and github's status, then try again (or ask for less data); a host on a private "
    "network must be allowed by the operator (SAGEMCP_UPSTREAM_ALLOW)."
)


@pytest.mark.parametrize(
    ("failure", "method", "sent"),
    [
        (httpx.ReadTimeout("timed out"), "GET", 1),  # an open port that never answers
        (httpx.ConnectTimeout("timed out"), "POST", 3),  # a filtered port (never sent: retried)
        (httpx.ConnectError("[Errno 111] Connection refused"), "POST", 3),  # a closed port
        (httpx.ConnectError("[Errno -2] Name or service not known"), "GET", 3),  # an unknown host
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "GET", 3),  # not HTTP
        (httpx.ReadError("[Errno 104] Connection reset by peer"), "GET", 3),
    ],
)
async def test_every_connection_failure_reads_the_same(
    serve: Callable[..., Harness], failure: httpx.HTTPError, method: str, sent: int
) -> None:
    """Open, closed, filtered and unknown ports must not be told apart by the error text (or its class)."""
    harness = serve(failure, max_retries=0 if isinstance(failure, httpx.ReadTimeout) else 2, connect_timeout=3)

    error = await raised(harness, method, timeout=5)

    assert type(error) is UpstreamUnavailable
    assert error.status is None and error.provider == "github"
    assert error.message == UNIFORM.format(where=f"{method} /v3/items", timeout=5)
    assert len(harness.requests) == sent


async def test_requests_are_the_ones_httpx_would_build(serve: Callable[..., Harness]) -> None:
    """The bound headers are merged with the client's defaults once per bound client, and requests are built from
    them directly: what is sent is what `AsyncClient.build_request` makes of the same arguments (header order,
    body, timeout), with and without a call's own headers."""
    harness = serve(httpx.Response(200))
    bound_headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json"}
    bound = harness.bind(headers=bound_headers, params={"tenant": "acme"})
    http = harness.client._http
    default = httpx.Timeout(30.0, connect=10.0)  # UpstreamClient's defaults

    await bound.get("items", params={"q": "x y"})
    first = http.build_request("GET", f"{BASE}/items?q=x+y&tenant=acme", headers=bound_headers, timeout=default)
    await bound.post("items", json={"a": 1}, headers={"Accept": "application/vnd.raw", "X-Extra": "yes"})
    await bound.put("form", data={"a": "1"}, timeout=3)
    await bound.get(f"{BASE}/next?page=2")

    call_headers = httpx.Headers(bound_headers)
    call_headers.update({"Accept": "application/vnd.raw", "X-Extra": "yes"})
    expected = [
        first,
        http.build_request("POST", f"{BASE}/items?tenant=acme", json={"a": 1}, headers=call_headers, timeout=default),
        http.build_request("PUT", f"{BASE}/form?tenant=acme", data={"a": "1"}, headers=bound_headers, timeout=3.0),
        http.build_request("GET", f"{BASE}/next?page=2&tenant=acme", headers=bound_headers, timeout=default),
    ]
    assert len(harness.requests) == len(expected)
    for sent, built in zip(harness.requests, expected, strict=True):
        assert (sent.method, sent.url) == (built.method, built.url)
        assert sent.headers.raw == built.headers.raw
        assert sent.content == built.content
        assert sent.extensions == built.extensions
    assert harness.requests[0].headers["accept"] == "application/vnd.github+json"
    assert harness.requests[2].headers["accept"] == "application/vnd.github+json"  # the call's own stayed its own
    assert "x-extra" not in harness.requests[2].headers


async def test_timeouts_are_configured_on_the_request(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(200), timeout=12, connect_timeout=4)

    await harness.bind().get("a")
    await harness.bind().get("b", timeout=2)
    await harness.bind().get("c")
    harness.client.connect_timeout = 1  # the settings are read per request, not fixed when the client is made
    await harness.bind().get("d")

    first, second, third, fourth = (r.extensions["timeout"] for r in harness.requests)
    assert first == {"connect": 4, "read": 12, "write": 12, "pool": 12}
    assert second == {"connect": 2, "read": 2, "write": 2, "pool": 2}
    assert third == first
    assert fourth == {"connect": 1, "read": 12, "write": 12, "pool": 12}


# --- bodies, redirects, hooks -----------------------------------------------------------------------


async def test_large_streamed_body_is_refused_without_reading_it_all(serve: Callable[..., Harness]) -> None:
    produced: list[int] = []
    chunk = b"x" * 65536

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        for _ in range(50 * 16):
            produced.append(len(chunk))
            yield chunk

    harness = serve(lambda request: httpx.Response(200, content=fifty_megabytes()), max_response_bytes=1024 * 1024)

    error = await raised(harness)

    assert isinstance(error, UpstreamBadResponse)
    assert "response larger than 1048576 bytes" in error.message
    assert sum(produced) <= 1024 * 1024 + len(chunk)
    assert len(harness.requests) == 1


async def test_declared_oversize_body_is_refused_before_reading(serve: Callable[..., Harness]) -> None:
    produced: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        produced.append(1)
        yield b"{}"

    harness = serve(
        lambda request: httpx.Response(200, content=body(), headers={"Content-Length": str(50 * 1024 * 1024)}),
        max_response_bytes=1000,
    )

    error = await raised(harness)

    assert "larger than 1000 bytes" in error.message
    assert produced == []


async def test_body_at_the_cap_is_accepted(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(200, content=b"a" * 1000), max_response_bytes=1000)

    response = await harness.bind().get("x")

    assert response.content == b"a" * 1000


async def test_redirects_are_not_followed(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(301, headers={"Location": "https://elsewhere.example.org/new?x=1"}))

    error = await raised(harness)

    assert isinstance(error, UpstreamBadResponse)
    assert error.status == 301
    assert "redirected to elsewhere.example.org, not followed" in error.message
    assert "x=1" not in error.message
    assert len(harness.requests) == 1


async def test_allowed_statuses_are_returned(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(302, headers={"Location": "/v3/other"}), json_reply(404, {"message": "nope"}))

    redirect = await harness.bind().get("a", allow_error_status=(302,))
    missing = await harness.bind().get("b", allow_error_status={404})

    assert redirect.status == 302
    assert redirect.headers["location"] == "/v3/other"
    assert missing.status == 404
    assert missing.json() == {"message": "nope"}
    assert len(harness.requests) == 2


def slack_hook(response: UpstreamResponse) -> UpstreamError | None:
    body = response.json()
    if body.get("ok"):
        return None
    if body.get("error") == "ratelimited":
        return UpstreamRateLimited("slack rate limited", retry_after=3)
    return UpstreamNotFound(f"slack error: {body.get('error')}")


async def test_error_hook_raises_on_a_200(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(200, {"ok": False, "error": "channel_not_found"}))

    with pytest.raises(UpstreamNotFound) as info:
        await harness.bind(provider="slack", error_hook=slack_hook).post("chat.postMessage", json={})

    assert info.value.message == "slack error: channel_not_found"
    assert info.value.status == 200
    assert info.value.provider == "slack"
    assert len(harness.requests) == 1


async def test_error_hook_rate_limit_is_retried_for_idempotent_requests(serve: Callable[..., Harness]) -> None:
    harness = serve(json_reply(200, {"ok": False, "error": "ratelimited"}), json_reply(200, {"ok": True}))
    bound = harness.bind(provider="slack", error_hook=slack_hook)

    response = await bound.get("conversations.history")

    assert response.json() == {"ok": True}
    assert harness.sleeps == [3]
    assert len(harness.requests) == 2


async def test_error_hook_is_consulted_before_status_mapping(serve: Callable[..., Harness]) -> None:
    def hook(response: UpstreamResponse) -> UpstreamError | None:
        if response.status == 400 and b"expired" in response.content:
            return UpstreamAuthError("token expired: reconnect")
        return None

    harness = serve(json_reply(400, {"message": "token expired"}), json_reply(400, {"message": "bad"}))
    bound = harness.bind(error_hook=hook)

    with pytest.raises(UpstreamAuthError):
        await bound.get("a")
    with pytest.raises(UpstreamBadRequest):
        await bound.get("b")


async def test_error_hook_failing_on_an_error_page_gives_way_to_the_status(serve: Callable[..., Harness]) -> None:
    harness = serve(httpx.Response(503, html="<html>maintenance</html>"), json_reply(200, {"ok": True}))

    response = await harness.bind(provider="slack", error_hook=slack_hook).get("conversations.list")

    assert response.json() == {"ok": True}
    assert len(harness.requests) == 2

    harness = serve(httpx.Response(500, html="<html>oops</html>"))
    with pytest.raises(UpstreamServerError):
        await harness.bind(provider="slack", error_hook=slack_hook).get("conversations.list")


# --- the response object ----------------------------------------------------------------------------


def test_invalid_json_raises_bad_response() -> None:
    response = UpstreamResponse(
        200,
        headers={"Content-Type": "text/html"},
        content=b"<html>",
        url=f"{BASE}/x?token=1",
        provider="github",
    )
    with pytest.raises(UpstreamBadResponse, match=r"github answered GET /v3/x with invalid JSON") as info:
        response.json()
    assert "content-type text/html" in info.value.message
    assert "token=1" not in info.value.message

    with pytest.raises(UpstreamBadResponse, match="empty body"):
        UpstreamResponse(204, url=BASE).json()


def test_text_uses_the_declared_charset() -> None:
    response = UpstreamResponse(
        200, headers={"Content-Type": "text/plain; charset=latin-1"}, content="café".encode("latin-1")
    )
    assert response.text == "café"
    assert UpstreamResponse(200, content="ünï".encode()).text == "ünï"


def test_links_are_parsed_and_resolved() -> None:
    header = (
        '<https://api.example.com/v3/items?page=3&per_page=2>; rel="next", '
        '</v3/items?page=9>; rel="last", '
        '<https://api.example.com/v3/items?page=1>; title="a, b; c"; rel=first, '
        '<https://api.example.com/v3/items?page=1>; rel="prev start"'
    )
    response = UpstreamResponse(200, headers={"Link": header}, url=f"{BASE}/items?page=2")

    assert response.links == {
        "next": "https://api.example.com/v3/items?page=3&per_page=2",
        "last": "https://api.example.com/v3/items?page=9",
        "first": "https://api.example.com/v3/items?page=1",
        "prev": "https://api.example.com/v3/items?page=1",
        "start": "https://api.example.com/v3/items?page=1",
    }
    assert UpstreamResponse(200).links == {}
    assert parse_link_header("garbage, <x>", "") == {}


def test_links_across_several_headers() -> None:
    headers = httpx.Headers([("Link", '<a?p=2>; rel="next"'), ("Link", '<a?p=1>; rel="prev"')])
    response = UpstreamResponse(200, headers=headers, url="https://h.example/list/")
    assert response.links == {"next": "https://h.example/list/a?p=2", "prev": "https://h.example/list/a?p=1"}


def test_github_rate_limit_headers() -> None:
    headers = httpx.Headers(
        {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4987", "X-RateLimit-Reset": "1750000000"}
    )
    assert parse_rate_limit(headers, now=1749999000) == RateLimit(
        limit=5000, remaining=4987, reset_at=1750000000.0, retry_after=None
    )


def test_ietf_draft_rate_limit_headers_use_delta_seconds() -> None:
    headers = httpx.Headers({"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "30"})
    assert parse_rate_limit(headers, now=1000.0) == RateLimit(limit=100, remaining=0, reset_at=1030.0, retry_after=None)

    combined = httpx.Headers({"RateLimit": '"default";r=5;t=12'})
    assert parse_rate_limit(combined, now=1000.0) == RateLimit(
        limit=None, remaining=5, reset_at=1012.0, retry_after=None
    )

    older = httpx.Headers({"RateLimit": "limit=10, remaining=2, reset=4"})
    assert parse_rate_limit(older, now=0.0) == RateLimit(limit=10, remaining=2, reset_at=4.0, retry_after=None)


def test_rate_limit_reset_in_milliseconds_and_retry_after() -> None:
    headers = httpx.Headers({"X-RateLimit-Reset": "1750000000000", "Retry-After": "2.5"})
    assert parse_rate_limit(headers, now=0.0) == RateLimit(
        limit=None, remaining=None, reset_at=1750000000.0, retry_after=2.5
    )
    assert parse_rate_limit(httpx.Headers({"Content-Type": "application/json"})) is None
    assert UpstreamResponse(200, headers={"X-RateLimit-Remaining": "3"}).rate_limit == RateLimit(
        limit=None, remaining=3, reset_at=None, retry_after=None
    )


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now=now) == 120
    assert parse_retry_after("-5", now=now) == 0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("nan", now=now) is None
    assert parse_retry_after(None) is None


def test_map_status_error_on_a_constructed_response() -> None:
    response = UpstreamResponse(
        404,
        headers={"X-Accepted-OAuth-Scopes": "repo", "X-OAuth-Scopes": ""},
        content=b'{"message": "Not Found"}',
        url="https://api.github.com/repos/acme/private",
        provider="github",
    )
    error = map_status_error(response)
    assert isinstance(error, UpstreamNotFound)
    assert "(the credential may lack scope `repo`)" in error.message
    assert error.code == "upstream_not_found"


async def test_cookies_an_upstream_sets_are_never_kept_nor_sent_on() -> None:
    """The client is shared by every tenant: a `Set-Cookie` answering one tenant's call must not ride on the next
    call to that host, whoever makes it."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        cookie = [("Set-Cookie", "session=tenant-a-secret; Domain=api.example.com; Path=/")]
        return httpx.Response(200, headers=cookie, json={})

    async with UpstreamClient(transport=httpx.MockTransport(handler)) as client:
        tenant_a = client.bind(base_url=BASE, provider="p", headers={"Authorization": "Bearer a"})
        tenant_b = client.bind(base_url=BASE, provider="p", headers={"Authorization": "Bearer b"})
        await tenant_a.get("items")
        await tenant_a.get("items")
        await tenant_b.get("items")
        assert not client._http.cookies
    assert [r.headers.get("cookie") for r in sent] == [None, None, None]
    assert [r.headers["authorization"] for r in sent] == ["Bearer a", "Bearer a", "Bearer b"]
