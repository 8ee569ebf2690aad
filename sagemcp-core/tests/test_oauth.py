from __future__ import annotations

import base64
import dataclasses
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from sagemcp import BAD_RESPONSE, UNREACHABLE, Credential, OAuth2
from sagemcp.errors import OAuthError, OAuthStateError, TokenEndpointError
from sagemcp.platform import MemoryStore, OAuthApp, OAuthFlows, PendingAuthorization

TOKEN_URL = "https://auth.example/token"
REVOKE_URL = "https://auth.example/revoke"
REDIRECT = "https://sagemcp.example/api/v1/oauth/callback"
CLIENT_SECRET = "client-secret-value-123"
CODE = "auth-code-value-456"
REFRESH = "refresh-token-value-789"

SCHEME = OAuth2(
    authorize_url="https://auth.example/authorize",
    token_url=TOKEN_URL,
    revoke_url=REVOKE_URL,
    scopes=("read",),
    extra_authorize_params={"access_type": "offline", "prompt": "consent"},
)
APP = OAuthApp(tenant_id="t1", provider="demo", client_id="client-1", client_secret=SecretStr(CLIENT_SECRET))


class FakeEndpoint:
    """Records requests and answers each with the next queued reply."""

    def __init__(self, *replies: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def form(self, index: int = -1) -> dict[str, str]:
        parsed = parse_qs(self.requests[index].content.decode(), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def flows(self, **kwargs: Any) -> OAuthFlows:
        return OAuthFlows(transport=httpx.MockTransport(self), **kwargs)


def token(**fields: Any) -> httpx.Response:
    body = {"access_token": "new-access", "token_type": "bearer", "expires_in": 3600, **fields}
    return httpx.Response(200, json=body)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def begin(flows: OAuthFlows, scheme: OAuth2 = SCHEME, **kwargs: Any) -> tuple[str, PendingAuthorization]:
    args: dict[str, Any] = {
        "tenant_id": "t1",
        "provider": "demo",
        "redirect_uri": REDIRECT,
        "scopes": ["read", "write"],
    }
    return flows.begin(scheme, APP, **{**args, **kwargs})


async def complete(
    flows: OAuthFlows, pending: PendingAuthorization, scheme: OAuth2 = SCHEME, app: OAuthApp = APP, **kwargs: Any
) -> Credential:
    args: dict[str, Any] = {"code": CODE, "state": pending.state, "tenant_id": "t1", "provider": "demo"}
    return (await flows.complete(scheme, app, pending, **{**args, **kwargs})).credential


def old_credential(**fields: Any) -> Credential:
    base: dict[str, Any] = {
        "tenant_id": "t1",
        "provider": "demo",
        "access_token": SecretStr("old-access"),
        "refresh_token": SecretStr(REFRESH),
        "expires_at": time.time() - 5,
        "scopes": ["read"],
        "extra": {"site": "s1"},
        "account": "alice",
        "version": 4,
    }
    return Credential(**{**base, **fields})


def assert_no_secrets(text: str) -> None:
    for secret in (CLIENT_SECRET, CODE, REFRESH, "new-access", "old-access"):
        assert secret not in text


# -- begin ----------------------------------------------------------------------------------


def test_authorization_url_carries_state_pkce_scopes_and_extra_params() -> None:
    url, pending = begin(OAuthFlows())
    assert url.startswith("https://auth.example/authorize?")
    params = query(url)
    assert params["response_type"] == "code"
    assert params["client_id"] == "client-1"
    assert params["redirect_uri"] == REDIRECT
    assert params["state"] == pending.state
    assert params["scope"] == "read write"
    assert params["access_type"] == "offline"
    assert params["prompt"] == "consent"
    assert params["code_challenge_method"] == "S256"
    assert pending.code_verifier is not None
    assert 43 <= len(pending.code_verifier) <= 128
    digest = hashlib.sha256(pending.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert (pending.tenant_id, pending.provider, pending.scopes) == ("t1", "demo", ("read", "write"))
    assert pending.expires_at - pending.created_at == pytest.approx(600)
    assert pending.state not in repr(pending)
    assert pending.code_verifier not in repr(pending)


def test_state_is_random_with_enough_entropy() -> None:
    flows = OAuthFlows()
    states = {begin(flows)[1].state for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 43 and s.isalnum() for s in states)


def test_no_pkce_and_provider_scope_syntax() -> None:
    scheme = dataclasses.replace(SCHEME, pkce=False, scope_separator=",", scope_param="user_scope")
    url, pending = begin(OAuthFlows(), scheme, scopes=["chat:write", "users:read"])
    params = query(url)
    assert "code_challenge" not in params
    assert pending.code_verifier is None
    assert params["user_scope"] == "chat:write,users:read"
    assert "scope" not in params


def test_extra_params_cannot_override_the_protocol_params() -> None:
    scheme = dataclasses.replace(SCHEME, extra_authorize_params={"state": "fixed", "client_id": "evil", "x": "1"})
    url, pending = begin(OAuthFlows(), scheme)
    params = query(url)
    assert params["state"] == pending.state != "fixed"
    assert params["client_id"] == "client-1"
    assert params["x"] == "1"


def test_app_of_another_tenant_is_refused() -> None:
    with pytest.raises(OAuthError):
        begin(OAuthFlows(), tenant_id="t2")


# -- complete -------------------------------------------------------------------------------


async def test_code_exchange_sends_the_pkce_verifier_and_builds_the_credential() -> None:
    endpoint = FakeEndpoint(token(refresh_token="new-refresh", scope="read,write,admin"))
    flows = endpoint.flows()
    url, pending = begin(flows)
    before = time.time()
    cred = await complete(flows, pending)

    assert len(endpoint.requests) == 1
    request = endpoint.requests[0]
    assert str(request.url) == TOKEN_URL
    assert request.headers["accept"] == "application/json"
    form = endpoint.form()
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == CODE
    assert form["redirect_uri"] == REDIRECT
    verifier = form["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query(url)["code_challenge"]
    assert form["client_id"] == "client-1"
    assert form["client_secret"] == CLIENT_SECRET
    assert "authorization" not in request.headers

    assert cred.kind == "oauth2"
    assert cred.access_token.get_secret_value() == "new-access"
    assert cred.refresh_token is not None
    assert cred.refresh_token.get_secret_value() == "new-refresh"
    assert cred.token_type == "Bearer"
    assert cred.expires_at is not None
    assert before + 3600 <= cred.expires_at <= time.time() + 3600
    assert cred.scopes == ["read", "write", "admin"]
    assert (cred.tenant_id, cred.provider, cred.version) == ("t1", "demo", 1)


async def test_scopes_default_to_the_requested_ones_and_space_separated_are_split() -> None:
    endpoint = FakeEndpoint(token(), token(scope="a b"))
    flows = endpoint.flows()
    _, pending = begin(flows)
    assert (await complete(flows, pending)).scopes == ["read", "write"]
    _, pending = begin(flows)
    assert (await complete(flows, pending)).scopes == ["a", "b"]


async def test_client_secret_basic_puts_the_secret_in_the_header_only() -> None:
    endpoint = FakeEndpoint(token())
    flows = endpoint.flows()
    scheme = dataclasses.replace(SCHEME, token_auth_method="client_secret_basic")
    _, pending = begin(flows, scheme)
    await complete(flows, pending, scheme)
    header = endpoint.requests[0].headers["authorization"]
    assert header == "Basic " + base64.b64encode(f"client-1:{CLIENT_SECRET}".encode()).decode()
    form = endpoint.form()
    assert "client_secret" not in form
    assert "client_id" not in form


async def test_public_client_sends_only_its_id() -> None:
    endpoint = FakeEndpoint(token())
    flows = endpoint.flows()
    scheme = dataclasses.replace(SCHEME, token_auth_method="none")
    _, pending = begin(flows, scheme)
    await complete(flows, pending, scheme)
    form = endpoint.form()
    assert form["client_id"] == "client-1"
    assert "client_secret" not in form
    assert "authorization" not in endpoint.requests[0].headers

    endpoint2 = FakeEndpoint(token())
    flows2 = endpoint2.flows()
    _, pending = begin(flows2)
    await complete(flows2, pending, app=APP.model_copy(update={"client_secret": None}))
    assert "client_secret" not in endpoint2.form()


def slack_hook(raw: dict[str, Any]) -> dict[str, Any]:
    user = raw["authed_user"]
    return {
        "access_token": user["access_token"],
        "refresh_token": user.get("refresh_token"),
        "expires_in": user.get("expires_in"),
        "scope": user["scope"],
        "token_type": user["token_type"],
        "account": user["id"],
        "extra": {"team_id": raw["team"]["id"], "team_name": raw["team"]["name"]},
    }


async def test_token_response_hook_reads_a_nested_user_token() -> None:
    slack_like = {
        "ok": True,
        "access_token": "xoxb-bot-token",
        "token_type": "bot",
        "scope": "commands",
        "team": {"id": "T1", "name": "Acme"},
        "authed_user": {
            "id": "U1",
            "scope": "chat:write,users:read",
            "access_token": "xoxp-user-token",
            "refresh_token": "xoxe-refresh",
            "expires_in": 43200,
            "token_type": "user",
        },
    }
    endpoint = FakeEndpoint(httpx.Response(200, json=slack_like))
    flows = endpoint.flows()
    scheme = dataclasses.replace(SCHEME, token_response_hook=slack_hook, scope_separator=",")
    _, pending = begin(flows, scheme)
    cred = await complete(flows, pending, scheme)
    assert cred.access_token.get_secret_value() == "xoxp-user-token"
    assert cred.refresh_token is not None
    assert cred.refresh_token.get_secret_value() == "xoxe-refresh"
    assert cred.token_type == "user"
    assert cred.scopes == ["chat:write", "users:read"]
    assert cred.account == "U1"
    assert cred.extra == {"team_id": "T1", "team_name": "Acme"}
    assert cred.expires_at is not None
    assert cred.expires_at > time.time() + 43000


async def test_slack_style_error_with_http_200() -> None:
    endpoint = FakeEndpoint(httpx.Response(200, json={"ok": False, "error": "invalid_code"}))
    flows = endpoint.flows()
    _, pending = begin(flows)
    with pytest.raises(TokenEndpointError) as info:
        await complete(flows, pending)
    assert info.value.error == "invalid_code"
    assert info.value.status == 200
    assert_no_secrets(str(info.value))


async def test_broken_hook_is_reported_without_values() -> None:
    def hook(raw: dict[str, Any]) -> dict[str, Any]:
        raise ValueError(f"unexpected {raw['access_token']}")

    endpoint = FakeEndpoint(token())
    flows = endpoint.flows()
    scheme = dataclasses.replace(SCHEME, token_response_hook=hook)
    _, pending = begin(flows, scheme)
    with pytest.raises(TokenEndpointError) as info:
        await complete(flows, pending, scheme)
    assert info.value.error == BAD_RESPONSE
    assert "ValueError" in str(info.value)
    assert_no_secrets(str(info.value))
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


async def test_invalid_grant_is_mapped_and_scrubbed() -> None:
    endpoint = FakeEndpoint(
        httpx.Response(400, json={"error": "invalid_grant", "error_description": f"code {CODE} was already used"})
    )
    flows = endpoint.flows()
    _, pending = begin(flows)
    with pytest.raises(TokenEndpointError) as info:
        await complete(flows, pending)
    assert (info.value.error, info.value.status) == ("invalid_grant", 400)
    assert "invalid_grant" in str(info.value)
    assert "already used" in str(info.value)
    assert_no_secrets(str(info.value))


@pytest.mark.parametrize(
    ("reply", "error", "status"),
    [
        (httpx.Response(502, text="<html>Bad gateway</html>"), BAD_RESPONSE, 502),
        (httpx.Response(200, text="access_token=x"), BAD_RESPONSE, 200),
        (httpx.Response(500, json={"message": "boom"}), None, 500),
        (httpx.Response(200, json={"token_type": "bearer"}), BAD_RESPONSE, None),
        (httpx.ConnectError("connection refused"), UNREACHABLE, None),
        (httpx.ReadTimeout("timed out"), UNREACHABLE, None),
    ],
)
async def test_endpoint_failures_become_token_endpoint_errors(
    reply: httpx.Response | Exception, error: str | None, status: int | None
) -> None:
    endpoint = FakeEndpoint(reply)
    flows = endpoint.flows()
    _, pending = begin(flows)
    with pytest.raises(TokenEndpointError) as info:
        await complete(flows, pending)
    assert (info.value.error, info.value.status) == (error, status)
    assert_no_secrets(str(info.value))


async def test_wrong_state_is_refused_before_any_request() -> None:
    endpoint = FakeEndpoint(token())
    flows = endpoint.flows()
    _, pending = begin(flows)
    with pytest.raises(OAuthStateError, match="does not match"):
        await complete(flows, pending, state="forged")
    assert endpoint.requests == []


async def test_expired_state_is_refused() -> None:
    endpoint = FakeEndpoint(token())
    flows = endpoint.flows(state_ttl=0.0)
    _, pending = begin(flows)
    assert pending.expired()
    with pytest.raises(OAuthStateError, match="expired"):
        await complete(flows, pending)
    assert endpoint.requests == []


async def test_state_bound_to_another_tenant_or_provider_is_refused() -> None:
    endpoint = FakeEndpoint(token())
    flows = endpoint.flows()
    _, pending = begin(flows)
    other_app = OAuthApp(tenant_id="t2", provider="demo", client_id="c2", client_secret=SecretStr("s2"))
    with pytest.raises(OAuthStateError, match="bound to another tenant/provider"):
        await complete(flows, pending, app=other_app, tenant_id="t2")
    with pytest.raises(OAuthStateError, match="bound to another tenant/provider"):
        await complete(flows, pending, provider="other")
    assert endpoint.requests == []


async def test_state_round_trip_through_the_store_is_single_use() -> None:
    endpoint = FakeEndpoint(token())
    flows = endpoint.flows()
    store = MemoryStore()
    url, pending = begin(flows)
    store.save_oauth_state(pending)
    returned_state = query(url)["state"]
    taken = store.take_oauth_state(returned_state)
    assert taken is not None
    cred = await complete(flows, taken, state=returned_state)
    assert cred.access_token.get_secret_value() == "new-access"
    assert store.take_oauth_state(returned_state) is None


async def test_missing_code_is_refused() -> None:
    endpoint = FakeEndpoint(token())
    flows = endpoint.flows()
    _, pending = begin(flows)
    with pytest.raises(OAuthError):
        await complete(flows, pending, code="")
    assert endpoint.requests == []


# -- refresh --------------------------------------------------------------------------------


async def test_refresh_keeps_the_refresh_token_when_not_rotated() -> None:
    endpoint = FakeEndpoint(token())
    old = old_credential()
    new = await endpoint.flows().refresh(SCHEME, APP, old)
    form = endpoint.form()
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == REFRESH
    assert form["client_secret"] == CLIENT_SECRET
    assert new.access_token.get_secret_value() == "new-access"
    assert new.refresh_token is not None
    assert new.refresh_token.get_secret_value() == REFRESH
    assert (new.id, new.version) == (old.id, old.version + 1)
    assert new.scopes == ["read"]
    assert new.extra == {"site": "s1"}
    assert new.account == "alice"
    assert new.expires_at is not None
    assert new.expires_at > time.time() + 3500


async def test_refresh_uses_a_rotated_refresh_token() -> None:
    endpoint = FakeEndpoint(token(refresh_token="rotated-refresh"))
    new = await endpoint.flows().refresh(SCHEME, APP, old_credential())
    assert new.refresh_token is not None
    assert new.refresh_token.get_secret_value() == "rotated-refresh"


async def test_refresh_invalid_grant() -> None:
    endpoint = FakeEndpoint(httpx.Response(400, json={"error": "invalid_grant", "error_description": REFRESH}))
    with pytest.raises(TokenEndpointError) as info:
        await endpoint.flows().refresh(SCHEME, APP, old_credential())
    assert info.value.error == "invalid_grant"
    assert_no_secrets(str(info.value))


async def test_refresh_without_refresh_token_is_refused() -> None:
    endpoint = FakeEndpoint(token())
    with pytest.raises(OAuthError):
        await endpoint.flows().refresh(SCHEME, APP, old_credential(refresh_token=None))
    assert endpoint.requests == []


# -- revoke ---------------------------------------------------------------------------------


async def test_revoke_posts_the_refresh_token() -> None:
    endpoint = FakeEndpoint(httpx.Response(200))
    assert await endpoint.flows().revoke(SCHEME, APP, old_credential())
    assert str(endpoint.requests[0].url) == REVOKE_URL
    form = endpoint.form()
    assert form["token"] == REFRESH
    assert form["token_type_hint"] == "refresh_token"


async def test_revoke_access_token_when_there_is_no_refresh_token() -> None:
    endpoint = FakeEndpoint(httpx.Response(200))
    assert await endpoint.flows().revoke(SCHEME, APP, old_credential(refresh_token=None))
    form = endpoint.form()
    assert form["token"] == "old-access"
    assert form["token_type_hint"] == "access_token"


async def test_revoke_without_endpoint_is_false_and_sends_nothing() -> None:
    endpoint = FakeEndpoint(httpx.Response(200))
    scheme = dataclasses.replace(SCHEME, revoke_url=None)
    assert not await endpoint.flows().revoke(scheme, APP, old_credential())
    assert endpoint.requests == []


@pytest.mark.parametrize(
    "reply", [httpx.Response(400, json={"error": "invalid_token"}), httpx.Response(503), httpx.ConnectError("down")]
)
async def test_revoke_failures_are_false_not_raised(
    reply: httpx.Response | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = FakeEndpoint(reply)
    assert not await endpoint.flows().revoke(SCHEME, APP, old_credential())
    assert len(endpoint.requests) == 1
    assert_no_secrets(caplog.text)
