"""Bad input to the admin API gets a clear 4xx on input, never a 500 later or a false `503 database_unavailable`.

Free-form JSON (credential fields and extra data, OAuth app settings, connector configuration) is bounded
in depth and size and must hold finite numbers only: `1e999` parses to infinity, which SQLite stores as
`Infinity` (answered as null later) and PostgreSQL refuses. A value the database refuses all the same is
reported as `422 invalid_value`. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Server
from test_api_tenants import assert_error

from sagemcp import Credential
from sagemcp.platform import OAuthApp
from sagemcp_server.api.schemas import MAX_JSON_BYTES, MAX_JSON_DEPTH
from sagemcp_server.db.store import InvalidValue

BASE = "/api/v1/admin/tenants/acme"


def nested(depth: int) -> dict[str, Any]:
    """A JSON object `depth` levels deep (the object itself is level 1)."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def send(server: Server, method: str, path: str, raw: str) -> Any:
    return await server.admin.request(method, path, content=raw, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 300])
async def test_deeply_nested_json_is_refused_on_input_and_listings_keep_working(server: Server, depth: int) -> None:
    await server.tenant("acme")
    await server.connector("acme", "tokenonly")
    await server.connector("acme", "fake")
    deep = nested(depth)
    cases = [
        ("PUT", f"{BASE}/credentials/tokenonly", {"token": "pat-deep-1234", "extra": deep}, "extra"),
        (
            "PUT",
            f"{BASE}/credentials/tokenonly",
            {"kind": "bearer", "fields": {"token": "pat-x1234", "o": deep}},
            "fields",
        ),
        ("PUT", f"{BASE}/oauth-apps/fake", {"client_id": "cid", "extra": deep}, "extra"),
        ("PATCH", f"{BASE}/connectors/fake", {"configuration": {"site": None, "x": deep}}, "configuration"),
        (
            "POST",
            f"{BASE}/connectors",
            {"connector_type": "fake", "name": "f2", "configuration": deep},
            "configuration",
        ),
    ]
    for method, path, body, field in cases:
        r = await server.admin.request(method, path, json=body)
        error = assert_error(r, 422, "invalid_body")["error"]
        assert error["details"][0]["field"] == field, error
        assert f"nested more than {MAX_JSON_DEPTH} levels" in error["details"][0]["message"]
    assert (await server.admin.get(f"{BASE}/credentials")).json()["items"] == []
    assert_error(await server.admin.get(f"{BASE}/oauth-apps/fake"), 404)
    assert (await server.admin.get(f"{BASE}/connectors")).status_code == 200
    # the deepest object allowed is stored and listed again
    r = await server.admin.put(
        f"{BASE}/credentials/tokenonly", json={"token": "pat-ok-1234", "extra": nested(MAX_JSON_DEPTH)}
    )
    assert r.status_code == 200, r.text
    listed = await server.admin.get(f"{BASE}/credentials")
    assert listed.status_code == 200 and listed.json()["items"][0]["extra"] == nested(MAX_JSON_DEPTH)


async def test_numbers_that_overflow_to_infinity_are_refused(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "tokenonly")
    await server.connector("acme", "fake")
    cases = [
        ("PUT", f"{BASE}/credentials/tokenonly", '{"token": "pat-inf-1234", "extra": {"limit": 1e999}}', "extra"),
        ("PUT", f"{BASE}/credentials/tokenonly", '{"fields": {"token": "pat-inf-1234", "n": [-1e999]}}', "fields"),
        ("PUT", f"{BASE}/oauth-apps/fake", '{"client_id": "cid", "extra": {"a": {"b": 1e400}}}', "extra"),
        ("PATCH", f"{BASE}/connectors/fake", '{"configuration": {"site": null, "n": 1e999}}', "configuration"),
    ]
    for method, path, raw, field in cases:
        error = assert_error(await send(server, method, path, raw), 422, "invalid_body")["error"]
        assert error["details"][0]["field"] == field and "finite" in error["details"][0]["message"], error
    assert (await server.admin.get(f"{BASE}/credentials")).json()["items"] == []
    assert_error(await server.admin.get(f"{BASE}/oauth-apps/fake"), 404)


async def test_oversized_json_is_refused(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "tokenonly")
    big = {"blob": "x" * MAX_JSON_BYTES}
    error = assert_error(
        await server.admin.put(f"{BASE}/credentials/tokenonly", json={"token": "pat-big-1234", "extra": big}),
        422,
        "invalid_body",
    )["error"]
    assert f"at most {MAX_JSON_BYTES} bytes" in error["details"][0]["message"]


async def test_a_value_the_database_refuses_is_invalid_not_unavailable(server: Server) -> None:
    store = server.services.store
    tenant = (await store.create_tenant("acme")).item
    refused = [
        Credential(tenant_id=tenant.id, provider="x", kind="bearer", access_token="t", extra={"o": object()}),
        Credential(tenant_id=tenant.id, provider="x", kind="bearer", access_token="t", extra={"n": float("inf")}),
    ]
    if server.services.engine.dialect.name == "postgresql":
        # SQLite stores strings of any length; PostgreSQL refuses one longer than the column (SQLSTATE 22001)
        refused.append(
            Credential(tenant_id=tenant.id, provider="x", kind="bearer", access_token="t", account="a" * 600)
        )
    else:
        refused.pop(1)  # SQLite stores Infinity; the API refuses it on input (above)
    for credential in refused:
        with pytest.raises(InvalidValue):
            await store.put_credential(credential)
    with pytest.raises(InvalidValue):
        await store.put_oauth_app(OAuthApp(tenant_id=tenant.id, provider="x", client_id="c", extra={"o": {1, 2}}))
    assert await store.get_credential(tenant.id, "x") is None
    await store.ping()  # the database is fine, and says so
    r = await server.admin.get("/readyz")
    assert r.status_code == 200, r.text


async def test_an_invalid_value_is_answered_with_422(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    await server.tenant("acme")
    await server.connector("acme", "tokenonly")

    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise InvalidValue("the database refused a value")

    monkeypatch.setattr(server.services.store, "put_credential", refuse)
    r = await server.admin.put(f"{BASE}/credentials/tokenonly", json={"token": "pat-refused-1234"})
    body = assert_error(r, 422, "invalid_value")
    assert "Retry-After" not in r.headers and json.dumps(body).count("database_unavailable") == 0
