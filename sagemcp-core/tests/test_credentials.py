from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
from pydantic import SecretStr

from sagemcp import Connector, ConnectorInfo, Credential, CredentialStatus, NoAuth, OAuth2, tool
from sagemcp.errors import CredentialError, NotConnected, ReconnectRequired, RefreshFailed
from sagemcp.platform import CredentialManager, MemoryStore, OAuthApp, OAuthFlows, Tenant

CLIENT_SECRET = "client-secret-abc"
OLD_ACCESS = "old-access-token"
OLD_REFRESH = "old-refresh-token"
NEW_ACCESS = "new-access-token"
NEW_REFRESH = "rotated-refresh-token"
SECRETS = (CLIENT_SECRET, OLD_ACCESS, OLD_REFRESH, NEW_ACCESS, NEW_REFRESH)


class Demo(Connector):
    info = ConnectorInfo(id="demo", title="Demo", description="A connector for tests.")
    auth = (
        OAuth2(
            authorize_url="https://auth.example/authorize",
            token_url="https://auth.example/token",
            revoke_url="https://auth.example/revoke",
        ),
    )

    @tool(read_only=True, group="g")
    async def ping(self, ctx: Any) -> str:
        """Ping."""
        return "pong"


class Public(Connector):
    info = ConnectorInfo(id="public", title="Public", description="Needs no credential.")
    auth = (NoAuth(),)

    @tool(read_only=True, group="g")
    async def ping(self, ctx: Any) -> str:
        """Ping."""
        return "pong"


Reply = Callable[[httpx.Request], Awaitable[httpx.Response]]


class FakeTokenEndpoint:
    """An async token endpoint that counts refresh requests and answers slowly enough to overlap callers."""

    def __init__(self, reply: Reply | None = None, *, delay: float = 0.05) -> None:
        self.reply = reply or self.rotate
        self.delay = delay
        self.refreshes: list[dict[str, str]] = []
        self.revocations: list[dict[str, str]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if request.url.path == "/revoke":
            self.revocations.append(form)
            return httpx.Response(200)
        self.refreshes.append(form)
        await anyio.sleep(self.delay)
        return await self.reply(request)

    @staticmethod
    async def rotate(request: httpx.Request) -> httpx.Response:
        body = {"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": 3600, "token_type": "Bearer"}
        return httpx.Response(200, json=body)

    def flows(self) -> OAuthFlows:
        return OAuthFlows(transport=httpx.MockTransport(self))


def setup(
    *, expires_in: float = -10, refresh: str | None = OLD_REFRESH, app: bool = True
) -> tuple[MemoryStore, Tenant, Credential]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    cred = store.put_credential(
        Credential(
            tenant_id=tenant.id,
            provider="demo",
            access_token=SecretStr(OLD_ACCESS),
            refresh_token=SecretStr(refresh) if refresh else None,
            expires_at=time.time() + expires_in,
            scopes=["read"],
        )
    )
    if app:
        store.put_oauth_app(
            OAuthApp(tenant_id=tenant.id, provider="demo", client_id="cid", client_secret=SecretStr(CLIENT_SECRET))
        )
    return store, tenant, cred


def assert_no_secrets(exc: BaseException) -> None:
    for secret in SECRETS:
        assert secret not in str(exc)


async def test_connector_without_auth_needs_no_credential() -> None:
    store, tenant, _ = setup()
    manager = CredentialManager(store, FakeTokenEndpoint().flows())
    assert await manager.get(tenant.id, "public", Public) is None


async def test_not_connected() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    manager = CredentialManager(store, FakeTokenEndpoint().flows())
    with pytest.raises(NotConnected) as info:
        await manager.get(tenant.id, "demo", Demo)
    assert str(info.value).startswith("demo is not connected for this tenant: connect it with")


async def test_fresh_credential_is_returned_without_refresh() -> None:
    store, tenant, cred = setup(expires_in=3600)
    endpoint = FakeTokenEndpoint()
    manager = CredentialManager(store, endpoint.flows())
    assert await manager.get(tenant.id, "demo", Demo) == cred
    assert endpoint.refreshes == []


async def test_token_inside_the_margin_is_refreshed() -> None:
    store, tenant, _ = setup(expires_in=30)
    endpoint = FakeTokenEndpoint()
    seen: list[tuple[str, bool]] = []
    manager = CredentialManager(
        store, endpoint.flows(), refresh_margin=60, on_refresh=lambda p, ok: seen.append((p, ok))
    )
    assert manager.refresh_margin == 60
    cred = await manager.get(tenant.id, "demo", Demo)
    assert cred is not None
    assert cred.access_token.get_secret_value() == NEW_ACCESS
    assert endpoint.refreshes == [
        {
            "grant_type": "refresh_token",
            "refresh_token": OLD_REFRESH,
            "client_id": "cid",
            "client_secret": CLIENT_SECRET,
        }
    ]
    assert seen == [("demo", True)]
    stored = await store.get_credential(tenant.id, "demo")
    assert stored == cred
    assert stored.version == 2
    assert stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == NEW_REFRESH


async def test_fifty_concurrent_callers_share_one_refresh() -> None:
    store, tenant, _ = setup()
    endpoint = FakeTokenEndpoint()
    manager = CredentialManager(store, endpoint.flows())
    tokens: list[str] = []

    async def call() -> None:
        cred = await manager.get(tenant.id, "demo", Demo)
        assert cred is not None
        tokens.append(cred.access_token.get_secret_value())

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
    assert len(endpoint.refreshes) == 1
    assert tokens == [NEW_ACCESS] * 50
    stored = await store.get_credential(tenant.id, "demo")
    assert stored is not None
    assert stored.version == 2


async def test_two_processes_sharing_a_store_refresh_once() -> None:
    store, tenant, _ = setup()
    endpoint = FakeTokenEndpoint()
    managers = [CredentialManager(store, endpoint.flows()), CredentialManager(store, endpoint.flows())]
    tokens: list[str] = []

    async def call(manager: CredentialManager) -> None:
        cred = await manager.get(tenant.id, "demo", Demo)
        assert cred is not None
        tokens.append(cred.access_token.get_secret_value())

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(call, managers[i % 2])
    assert len(endpoint.refreshes) == 1
    assert tokens == [NEW_ACCESS] * 50


class NoLockStore(MemoryStore):
    """A store whose lock excludes nobody, like two replicas racing past a weak lock."""

    def lock_credential(self, tenant_id: str, provider: str) -> Any:
        store = self

        class _Unlocked:
            async def __aenter__(self) -> Credential | None:
                return await store.get_credential(tenant_id, provider)

            async def __aexit__(self, *exc: object) -> None:
                return None

        return _Unlocked()


async def test_compare_and_swap_loser_returns_the_winner_and_keeps_its_refresh_token() -> None:
    store = NoLockStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    old = store.put_credential(
        Credential(
            tenant_id=tenant.id,
            provider="demo",
            access_token=SecretStr(OLD_ACCESS),
            refresh_token=SecretStr(OLD_REFRESH),
            expires_at=time.time() - 10,
        )
    )
    store.put_oauth_app(OAuthApp(tenant_id=tenant.id, provider="demo", client_id="cid", client_secret=SecretStr("s")))
    winner = old.model_copy(
        update={
            "access_token": SecretStr("winner-access"),
            "refresh_token": SecretStr("winner-refresh"),
            "expires_at": time.time() + 3600,
            "version": old.version + 1,
        }
    )

    async def other_replica_wins(request: httpx.Request) -> httpx.Response:
        assert await store.swap_credential(old.version, winner)
        return await FakeTokenEndpoint.rotate(request)

    endpoint = FakeTokenEndpoint(other_replica_wins)
    manager = CredentialManager(store, endpoint.flows())
    cred = await manager.get(tenant.id, "demo", Demo)
    assert len(endpoint.refreshes) == 1
    assert cred is not None
    assert cred.access_token.get_secret_value() == "winner-access"
    stored = await store.get_credential(tenant.id, "demo")
    assert stored == winner
    assert stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == "winner-refresh"


async def invalid_grant(request: httpx.Request) -> httpx.Response:
    return httpx.Response(400, json={"error": "invalid_grant", "error_description": f"bad token {OLD_REFRESH}"})


async def test_invalid_grant_marks_reconnect_required_and_stops_calling_the_provider() -> None:
    store, tenant, _ = setup()
    endpoint = FakeTokenEndpoint(invalid_grant)
    seen: list[tuple[str, bool]] = []
    manager = CredentialManager(store, endpoint.flows(), on_refresh=lambda p, ok: seen.append((p, ok)))
    with pytest.raises(ReconnectRequired) as info:
        await manager.get(tenant.id, "demo", Demo)
    assert "reconnect demo" in str(info.value)
    assert_no_secrets(info.value)
    stored = await store.get_credential(tenant.id, "demo")
    assert stored is not None
    assert stored.status == CredentialStatus.RECONNECT_REQUIRED
    assert seen == [("demo", False)]

    with pytest.raises(ReconnectRequired) as again:
        await manager.get(tenant.id, "demo", Demo)
    assert_no_secrets(again.value)
    assert len(endpoint.refreshes) == 1


async def test_concurrent_callers_share_a_failed_refresh() -> None:
    store, tenant, _ = setup()
    endpoint = FakeTokenEndpoint(invalid_grant)
    manager = CredentialManager(store, endpoint.flows())
    errors: list[BaseException] = []

    async def call() -> None:
        try:
            await manager.get(tenant.id, "demo", Demo)
        except ReconnectRequired as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(call)
    assert len(errors) == 20
    assert len(endpoint.refreshes) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_transient_failure_keeps_the_credential(status: int) -> None:
    async def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "try later"})

    store, tenant, before = setup()
    endpoint = FakeTokenEndpoint(unavailable)
    manager = CredentialManager(store, endpoint.flows())
    with pytest.raises(RefreshFailed) as info:
        await manager.get(tenant.id, "demo", Demo)
    assert "temporarily" in str(info.value)
    assert_no_secrets(info.value)
    assert await store.get_credential(tenant.id, "demo") == before

    endpoint.reply = FakeTokenEndpoint.rotate
    cred = await manager.get(tenant.id, "demo", Demo)
    assert cred is not None
    assert cred.access_token.get_secret_value() == NEW_ACCESS


async def test_concurrent_callers_share_a_transient_failure() -> None:
    async def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    store, tenant, _ = setup()
    endpoint = FakeTokenEndpoint(unavailable)
    manager = CredentialManager(store, endpoint.flows())
    errors: list[BaseException] = []

    async def call() -> None:
        try:
            await manager.get(tenant.id, "demo", Demo)
        except RefreshFailed as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(call)
    assert len(errors) == 20
    assert len(endpoint.refreshes) == 1


async def test_network_failure_is_transient() -> None:
    async def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    store, tenant, before = setup()
    manager = CredentialManager(store, FakeTokenEndpoint(down).flows())
    with pytest.raises(RefreshFailed):
        await manager.get(tenant.id, "demo", Demo)
    assert await store.get_credential(tenant.id, "demo") == before


async def test_other_refusals_do_not_mark_the_credential() -> None:
    async def bad_client(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    store, tenant, before = setup()
    manager = CredentialManager(store, FakeTokenEndpoint(bad_client).flows())
    with pytest.raises(CredentialError) as info:
        await manager.get(tenant.id, "demo", Demo)
    assert type(info.value) is CredentialError
    assert "invalid_client" in str(info.value)
    assert "OAuth app" in str(info.value)
    assert_no_secrets(info.value)
    assert await store.get_credential(tenant.id, "demo") == before


async def test_expired_without_refresh_token_requires_reconnect() -> None:
    store, tenant, _ = setup(refresh=None)
    endpoint = FakeTokenEndpoint()
    manager = CredentialManager(store, endpoint.flows())
    with pytest.raises(ReconnectRequired, match="reconnect demo"):
        await manager.get(tenant.id, "demo", Demo)
    assert endpoint.refreshes == []


async def test_expiring_soon_without_refresh_token_is_still_used() -> None:
    store, tenant, cred = setup(refresh=None, expires_in=30)
    manager = CredentialManager(store, FakeTokenEndpoint().flows())
    assert await manager.get(tenant.id, "demo", Demo) == cred


async def test_missing_oauth_app_requires_reconnect() -> None:
    store, tenant, _ = setup(app=False)
    endpoint = FakeTokenEndpoint()
    manager = CredentialManager(store, endpoint.flows())
    with pytest.raises(ReconnectRequired, match="OAuth app"):
        await manager.get(tenant.id, "demo", Demo)
    assert endpoint.refreshes == []


async def test_credential_of_an_unaccepted_kind_requires_reconnect() -> None:
    store, tenant, cred = setup(expires_in=3600)
    store.put_credential(cred.model_copy(update={"kind": "api_key"}))
    manager = CredentialManager(store, FakeTokenEndpoint().flows())
    with pytest.raises(ReconnectRequired, match="api_key"):
        await manager.get(tenant.id, "demo", Demo)


async def test_cancelled_caller_does_not_lose_a_rotated_refresh_token() -> None:
    store, tenant, _ = setup()
    started = anyio.Event()
    release = anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()
        return await FakeTokenEndpoint.rotate(request)

    manager = CredentialManager(store, FakeTokenEndpoint(slow, delay=0).flows())
    scope = anyio.CancelScope()

    async def caller() -> None:
        with scope:
            await manager.get(tenant.id, "demo", Demo)

    async with anyio.create_task_group() as tg:
        tg.start_soon(caller)
        await started.wait()
        scope.cancel()
        await anyio.sleep(0.01)
        release.set()
    stored = await store.get_credential(tenant.id, "demo")
    assert stored is not None
    assert stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == NEW_REFRESH


async def test_revoke_at_the_provider() -> None:
    store, tenant, _ = setup(expires_in=3600)
    endpoint = FakeTokenEndpoint()
    manager = CredentialManager(store, endpoint.flows())
    assert await manager.revoke(tenant.id, "demo", Demo)
    assert endpoint.revocations[0]["token"] == OLD_REFRESH
    assert not await manager.revoke(tenant.id, "public", Public)
    assert not await manager.revoke(tenant.id, "nothing", Demo)
