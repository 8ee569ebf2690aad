"""OAuth access tokens never cross tenants or endpoints, property-based, against the reference server.

One world of tenants, connectors, members and grants of the built-in authorization server (tokens
for the tenant-wide endpoint and for one connector, revoked, expired, of a membership that ended),
served by the real server app (SQLite) in stateless and stateful mode under uvicorn. Hypothesis
then sends random requests over every transport (Streamable HTTP in both protocol eras, stateful
sessions used with another token, legacy SSE with messages posted by another token, WebSocket) with
any mix of token, tenant, connector (by name or id) and method. The oracle: a token is admitted
only on exactly the endpoint (canonical resource URL) it was issued for, of its own tenant, while
its grant is live and its user a member; anything else is a 401 (dead token) or the same 404 a
foreign tenant gets. No answer carries another tenant's id or slug.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import event, given
from hypothesis import strategies as st

from sagemcp.platform import SecretBox
from sagemcp_server.app import create_app
from sagemcp_server.authz import tokens
from sagemcp_server.settings import Settings

from . import _clients as c
from ._support import LEDGER, ScanningApp, serve

pytestmark = pytest.mark.asyncio(loop_scope="module")

PUBLIC = "https://mcp.test"
ADMIN_KEY = "test-admin-key-oauth-isolation-0123"
TENANTS = ("acme", "globex", "initech")
CONNECTORS = ("alpha", "beta")


@dataclass(frozen=True)
class Grant:
    token: str
    tenant: str
    connector: str | None
    """The connector of the endpoint it was issued for (by name), None for the tenant-wide endpoint."""
    live: bool
    label: str


@dataclass
class Rig:
    stateless: str
    stateful: str
    http: httpx.AsyncClient
    grants: list[Grant]
    ids: dict[str, str]
    """Tenant slug -> tenant id, and `slug/connector` -> connector id."""


def expect(grant: Grant | None, slug: str, connector: str | None) -> int:
    """The status the failure table requires for `grant` on the endpoint of `slug` (and `connector`)."""
    if grant is None or not grant.live:
        return 401
    if slug != grant.tenant or connector != grant.connector:
        return 404  # another tenant, another endpoint of the same tenant, or a connector named by its id
    return 200


def _foreign(rig: Rig, slug: str) -> set[str]:
    """What an answer about `slug` must not contain: the other tenants' slugs and ids and connector ids."""
    markers = set()
    for other in TENANTS:
        if other == slug:
            continue
        markers |= {other, rig.ids[other]} | {rig.ids[f"{other}/{name}"] for name in CONNECTORS}
    return markers


async def _world(base: str, services: Any) -> tuple[list[Grant], dict[str, str]]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    ids: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as admin:
        for slug in TENANTS:
            ids[slug] = (await admin.post("/api/v1/admin/tenants", json={"slug": slug})).json()["id"]
            for name in CONNECTORS:
                r = await admin.post(
                    f"/api/v1/admin/tenants/{slug}/connectors", json={"connector_type": "demo", "name": name}
                )
                ids[f"{slug}/{name}"] = r.json()["id"]
        people = {
            "owner": TENANTS,
            "ann": ("acme",),
            "ben": ("acme", "globex"),
            "cat": ("initech",),
            "dan": ("globex",),
        }
        for person, memberships in people.items():
            await admin.post("/api/v1/admin/users", json={"email": f"{person}@example.com"})
            for slug in memberships:
                role = "owner" if person == "owner" else "member"
                r = await admin.post(
                    f"/api/v1/admin/tenants/{slug}/members", json={"email": f"{person}@example.com", "role": role}
                )
                assert r.status_code == 201, r.text
    grants: list[Grant] = []
    store = services.authz

    async def issue(person: str, slug: str, connector: str | None, *, lifetime: float = 3600) -> Grant:
        user = await services.people.get_user_by_email(f"{person}@example.com")
        resource = f"{PUBLIC}/api/v1/{slug}/" + (f"connectors/{connector}/mcp" if connector else "mcp")
        family = secrets.token_hex(16)
        issued = await store.issue_tokens(
            family_id=family, client_id="isolation-client", user_id=user.id, tenant_id=ids[slug], resource=resource,
            scopes=["mcp"], redirect_uri=None, access_lifetime=lifetime, refresh_lifetime=86400,
        )  # fmt: skip
        LEDGER.secret(issued.access_token)
        LEDGER.secret(issued.refresh_token)
        return Grant(issued.access_token, slug, connector, True, f"{person}@{slug}/{connector or '*'}")

    for person, memberships in people.items():
        if person == "owner":
            continue
        for slug in memberships:
            for connector in (None, "alpha"):
                grants.append(await issue(person, slug, connector))
    revoked = await issue("ann", "acme", None)
    await store.revoke_family((await store.get_token(tokens.digest(revoked.token))).family_id)
    expired = await issue("cat", "initech", "beta", lifetime=-1)
    left = await issue("dan", "globex", "beta")
    dan = await services.people.get_user_by_email("dan@example.com")
    await services.people.remove_member(ids["globex"], dan.id)
    grants.append(left)
    # Every grant of dan's ended with his membership, not only the last one.
    grants = [
        Grant(g.token, g.tenant, g.connector, False, g.label) if g.label.startswith("dan@") else g for g in grants
    ]
    for dead in (revoked, expired):
        grants.append(Grant(dead.token, dead.tenant, dead.connector, False, dead.label + " (dead)"))
    services.tokens_changed()
    return grants, ids


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    data = tmp_path_factory.mktemp("oauth-isolation")
    common: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{Path(data) / 'sagemcp.db'}",
        "secret_keys": SecretBox.generate_key(),
        "admin_key": ADMIN_KEY,
        "public_url": PUBLIC,
        "data_dir": data,
        "password_memory_kib": 8192,
        "password_time_cost": 1,
    }
    stateless_app = create_app(Settings(**common))
    stateful_app = create_app(Settings(**common, mcp_stateful=True))
    async with (
        serve(ScanningApp(stateless_app, "oauth-isolation-stateless")) as a,
        serve(ScanningApp(stateful_app, "oauth-isolation-stateful")) as b,
        httpx.AsyncClient(timeout=30) as http,
    ):
        grants, ids = await _world(a, stateless_app.state.services)
        stateful_app.state.services.tokens_changed()
        yield Rig(a + "/api/v1", b + "/api/v1", http, grants, ids)


@st.composite
def requests(draw: st.DrawFn, rig: Rig) -> tuple[Grant | None, str, str | None, bool]:
    """(grant, tenant, connector, by id): half the time the grant's own endpoint, otherwise any mix."""
    grant = draw(st.sampled_from([*rig.grants, None]))
    if grant is not None and draw(st.booleans()):
        return grant, grant.tenant, grant.connector, False
    slug = draw(st.sampled_from([*TENANTS, "nobody"]))
    connector = draw(st.sampled_from([None, *CONNECTORS, "missing"]))
    by_id = connector in CONNECTORS and slug in TENANTS and draw(st.booleans())
    return grant, slug, connector, by_id


def _path(rig: Rig, slug: str, connector: str | None, by_id: bool, suffix: str = "mcp") -> str:
    if connector is None:
        return f"/{slug}/{suffix}"
    key = rig.ids[f"{slug}/{connector}"] if by_id else connector
    return f"/{slug}/connectors/{key}/{suffix}"


def _status(grant: Grant | None, slug: str, connector: str | None, by_id: bool) -> int:
    wanted = expect(grant, slug, connector)
    if wanted == 200 and by_id:
        return 404  # the token names the connector by name: its id is another resource URL
    return wanted


def _check(rig: Rig, wanted: int, status: int, text: str, slug: str, label: str) -> None:
    event(f"{wanted}")
    if wanted == 200:
        assert status == 200, (label, status, text[:300])
        assert '"result"' in text and '"tools"' in text, text[:300]
    elif wanted == 404 and status == 404:
        assert '"result"' not in text
    else:
        assert status == wanted, (label, wanted, status, text[:300])
    for marker in _foreign(rig, slug):
        assert marker not in text, f"{label}: the answer about {slug} carries {marker}: {text[:300]}"


@given(data=st.data())
async def test_streamable_http_tokens_stay_on_their_endpoint(rig: Rig, data: st.DataObject) -> None:
    for _ in range(data.draw(st.integers(1, 4))):
        grant, slug, connector, by_id = data.draw(requests(rig))
        base = data.draw(st.sampled_from([rig.stateless, rig.stateful]))
        era = data.draw(st.sampled_from(["modern", "handshake"])) if base == rig.stateless else "modern"
        path = base + _path(rig, slug, connector, by_id)
        token = grant.token if grant else None
        if era == "modern":
            reply = await c.call_modern(rig.http, path, token, "tools/list", {})
        else:
            reply = await c.call_handshake(rig.http, path, token, "tools/list", {})
        label = grant.label if grant else "no token"
        _check(rig, _status(grant, slug, connector, by_id), reply.status, reply.text, slug, label)
        if reply.status == 401:
            assert 'error="invalid_token"' in reply.headers["www-authenticate"] or grant is None
            assert f"{PUBLIC}/.well-known/oauth-protected-resource/api/v1/" in reply.headers["www-authenticate"]


@given(data=st.data())
async def test_a_session_opened_with_one_token_serves_no_other(rig: Rig, data: st.DataObject) -> None:
    opener = data.draw(st.sampled_from([g for g in rig.grants if g.live]))
    path = rig.stateful + _path(rig, opener.tenant, opener.connector, False)
    init, session = await c.open_session(rig.http, path, opener.token)
    assert init.status == 200 and session, init.text
    user, slug, connector, by_id = data.draw(requests(rig))
    same = user == opener and (slug, connector, by_id) == (opener.tenant, opener.connector, False)
    reply = await c.call_handshake(
        rig.http, rig.stateful + _path(rig, slug, connector, by_id), user.token if user else None, "tools/list",
        {}, session=session,
    )  # fmt: skip
    wanted = _status(user, slug, connector, by_id)
    if wanted == 200 and not same:
        wanted = 404  # another grant on the path where the session lives: the session is not theirs
    _check(rig, wanted, reply.status, reply.text, slug, user.label if user else "no token")
    await rig.http.delete(path, headers={"Mcp-Session-Id": session, **c.auth(opener.token)})


@given(data=st.data())
async def test_legacy_sse_streams_take_messages_only_from_their_own_grant(rig: Rig, data: st.DataObject) -> None:
    opener, slug, connector, by_id = data.draw(requests(rig))
    base = data.draw(st.sampled_from([rig.stateless, rig.stateful]))
    wanted = _status(opener, slug, connector, by_id)
    async with c.sse_session(
        rig.http, base + _path(rig, slug, connector, by_id, "sse"), opener.token if opener else None
    ) as sse:
        if wanted != 200:
            body = (await sse.response.aread()).decode()
            _check(rig, wanted, sse.status, body, slug, opener.label if opener else "no token")
            return
        assert opener is not None and sse.status == 200
        assert await sse.handshake(opener.token) is not None
        session_id = (sse.endpoint or "").split("session_id=", 1)[1]
        poster = data.draw(st.sampled_from([*rig.grants, None]))
        message = c.request("tools/list", {})
        endpoint = base + _path(rig, slug, connector, by_id, "messages/") + f"?session_id={session_id}"
        r = await sse.send(message, poster.token if poster else None, endpoint)
        if poster == opener:
            assert r.status_code == 202, r.text
            reply = await sse.wait_for(message["id"])
            _check(rig, 200, 200, json.dumps(reply), slug, opener.label)
        else:
            posted = _status(poster, slug, connector, by_id)
            _check(
                rig, 404 if posted == 200 else posted, r.status_code, r.text, slug, poster.label if poster else "none"
            )
            status, pong = await sse.call("ping", None, opener.token)
            assert status == 202 and pong is not None and all(m.get("id") != message["id"] for m in sse.messages)


@given(data=st.data())
async def test_websocket_upgrades_take_only_a_token_of_their_endpoint(rig: Rig, data: st.DataObject) -> None:
    grant, slug, connector, by_id = data.draw(requests(rig))
    base = data.draw(st.sampled_from([rig.stateless, rig.stateful])).removesuffix("/api/v1")
    path = "/api/v1" + _path(rig, slug, connector, by_id, "ws")
    token = grant.token if grant else None
    if _status(grant, slug, connector, by_id) != 200:
        assert await c.ws_status(base, path, token) == 403
        return
    async with c.ws_connect(base, path, token) as ws:
        assert "result" in await c.ws_handshake(ws)
        reply = await c.ws_exchange(ws, c.request("tools/list", {}))
        _check(rig, 200, 200, json.dumps(reply), slug, grant.label if grant else "none")
