"""Token endpoints are reached through the same connect-time address check as tool calls.

A token, refresh or revocation URL (or the host a post-authorization hook asks) whose host resolves
to an internal address gets no connection, so no code, client secret or token is sent there; and the
failure reads the same as a closed port, an unknown host or a silent one.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import anyio
import httpx
import pytest
from pydantic import SecretStr

from sagemcp import UNREACHABLE, Credential, OAuth2
from sagemcp._netbackend import AddressGuard
from sagemcp._urls import ALLOW_ENV
from sagemcp.errors import TokenEndpointError
from sagemcp.platform import ALLOW_LOOPBACK_ENV, OAuthApp, OAuthFlows

from .test_address_policy import closed_port, listener, stay_silent

CLIENT_SECRET = "client-secret-value-123"
CODE = "auth-code-value-456"
REFRESH = "refresh-token-value-789"
APP = OAuthApp(tenant_id="t1", provider="demo", client_id="client-1", client_secret=SecretStr(CLIENT_SECRET))


@pytest.fixture(autouse=True)
def _production_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_LOOPBACK_ENV, raising=False)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def resolve(monkeypatch: pytest.MonkeyPatch, answers: dict[str, str]) -> None:
    """Names answer the given address; other names are unknown; IP literals resolve to themselves."""

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        address = answers.get(host, host if host.replace(".", "").isdigit() else None)
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(anyio, "getaddrinfo", getaddrinfo)


async def answer_token(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = b'{"access_token":"new-access","token_type":"bearer","expires_in":3600}'
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()


def scheme(base: str, **kwargs: Any) -> OAuth2:
    return OAuth2(authorize_url=f"{base}/authorize", token_url=f"{base}/token", revoke_url=f"{base}/revoke", **kwargs)


async def exchange(flows: OAuthFlows, oauth: OAuth2) -> Credential:
    _, pending = flows.begin(
        oauth, APP, tenant_id="t1", provider="demo", redirect_uri="https://x.example/cb", scopes=[]
    )
    authorization = await flows.complete(
        oauth, APP, pending, code=CODE, state=pending.state, tenant_id="t1", provider="demo"
    )
    return authorization.credential


def stored() -> Credential:
    return Credential(
        tenant_id="t1",
        provider="demo",
        access_token=SecretStr("old-access-token-0123"),
        refresh_token=SecretStr(REFRESH),
    )


def test_the_default_transport_carries_the_address_guard() -> None:
    client = OAuthFlows()._client()
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._network_backend, AddressGuard)
    assert client.follow_redirects is False


async def test_a_token_endpoint_resolving_to_an_internal_address_receives_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with listener(answer_token) as (port, seen):
        resolve(monkeypatch, {"login.attacker.example": "127.0.0.1"})
        flows = OAuthFlows(timeout=2)
        oauth = scheme(f"http://login.attacker.example:{port}")
        with pytest.raises(TokenEndpointError) as caught:
            await exchange(flows, oauth)
        assert caught.value.error == UNREACHABLE
        with pytest.raises(TokenEndpointError):
            await flows.refresh(oauth, APP, stored())
        assert await flows.revoke(oauth, APP, stored()) is False
        assert seen == []  # no code, client secret, refresh token or access token ever reached the host
        message = str(caught.value)
        assert CODE not in message and CLIENT_SECRET not in message and "127.0.0.1" not in message

        # The same flows reach the same host once the operator allows loopback: the refusal was the guard.
        monkeypatch.setenv(ALLOW_LOOPBACK_ENV, "1")
        credential = await exchange(flows, oauth)
    assert credential.require_token() == "new-access"
    assert len(seen) == 1 and seen[0].startswith(b"POST /token ")


async def test_a_post_authorize_hook_cannot_send_the_new_token_to_an_internal_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with listener(answer_token) as (token_port, token_seen), listener(answer_token) as (port, seen):
        monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")  # the token endpoint only, by its own name
        resolve(monkeypatch, {"login.example": "127.0.0.1", "api.internal.example": "10.0.0.9"})

        async def ask(credential: Credential, http: httpx.AsyncClient) -> dict[str, Any]:
            response = await http.get(f"http://api.internal.example:{port}/whoami")
            response.raise_for_status()
            return {"whoami": response.json()}

        oauth = scheme(f"http://login.example:{token_port}", post_authorize=ask)
        with pytest.raises(TokenEndpointError, match="nothing was stored") as caught:
            await exchange(OAuthFlows(timeout=2), oauth)
    assert caught.value.error == UNREACHABLE
    assert len(token_seen) == 1 and seen == []


async def test_refused_closed_unknown_and_silent_token_endpoints_read_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts: dict[str, str] = {}
    async with listener(stay_silent) as (silent, _):
        resolve(monkeypatch, {"internal.example": "10.0.0.1", "loopback.example": "127.0.0.1"})
        targets = {
            "internal address": "http://internal.example:6379",
            "loopback, not allowed": f"http://loopback.example:{silent}",
            "unknown host": "http://unknown.example:8080",
        }
        for name, base in targets.items():
            with pytest.raises(TokenEndpointError) as caught:
                await OAuthFlows(timeout=0.5).refresh(scheme(base), APP, stored())
            texts[name] = str(caught.value)
        monkeypatch.setenv(ALLOW_LOOPBACK_ENV, "1")
        for name, base in {
            "closed port": f"http://127.0.0.1:{closed_port()}",
            "open, silent": f"http://127.0.0.1:{silent}",
        }.items():
            with pytest.raises(TokenEndpointError) as caught:
                await OAuthFlows(timeout=0.5).refresh(scheme(base), APP, stored())
            texts[name] = str(caught.value)
    assert len(set(texts.values())) == 1, texts
    assert texts["closed port"].startswith("could not reach demo's token endpoint: no connection, or no answer")


class HostedGrant:
    """A self-refreshing scheme posting to a host taken from the credential (as a GitHub App's `api_url`)."""

    async def refresh_credential(self, credential: Credential, http: httpx.AsyncClient) -> Credential:
        response = await http.post(
            f"{credential.extra['api_url']}/app/installations/1/access_tokens",
            headers={"Authorization": "Bearer app-jwt-0123456789"},
        )
        response.raise_for_status()
        return credential.model_copy(update={"access_token": SecretStr(response.json()["access_token"])})


async def test_a_self_refreshing_scheme_cannot_reach_an_internal_address(monkeypatch: pytest.MonkeyPatch) -> None:
    async with listener(answer_token) as (port, seen):
        resolve(monkeypatch, {"ghe.attacker.example": "127.0.0.1"})
        app_credential = Credential(
            tenant_id="t1",
            provider="github",
            kind="github_app",
            extra={"api_url": f"http://ghe.attacker.example:{port}"},
        )
        with pytest.raises(TokenEndpointError, match="no connection, or no answer in time") as caught:
            await OAuthFlows(timeout=2).refresh_with_scheme(HostedGrant(), app_credential)
        assert caught.value.error == UNREACHABLE and seen == []  # the app's JWT never left
        monkeypatch.setenv(ALLOW_LOOPBACK_ENV, "1")
        renewed = await OAuthFlows(timeout=2).refresh_with_scheme(HostedGrant(), app_credential)
    assert renewed.require_token() == "new-access" and len(seen) == 1
