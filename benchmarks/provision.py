"""Tenants, connectors, credentials and API keys for the benchmark, in a `MemoryStore` or the server's SQL store.

Tenant 0 is `bench`, the one the throughput cells call; the others (`t00001`...)
exist for the scale check. Each tenant has `connectors` GitHub connectors
(`github`, `github-2`, ...) pointing at the fake upstream, one GitHub token and one
API key. With `echo`, the `bench` tenant also has the echo connector (`demo`, no
credential). The raw API keys are written to a JSON file `{slug: key}` for the load
generator; they are random per provisioning, like real keys.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sagemcp import Credential
from sagemcp.platform import ConnectorConfig, MemoryStore, Tenant

from .targets._connector import connector_configuration
from .targets._fixtures import ECHO_CONNECTOR, TENANT, UPSTREAM_TOKEN

PROVIDER = "github"


def slug(i: int) -> str:
    return TENANT if i == 0 else f"t{i:05d}"


def connector_name(j: int) -> str:
    return "github" if j == 0 else f"github-{j + 1}"


def echo_config(tenant_id: str) -> ConnectorConfig:
    """The echo cells' connector: the demo connector, named like its type, needing no configuration."""
    return ConnectorConfig(tenant_id=tenant_id, connector_type=ECHO_CONNECTOR, name=ECHO_CONNECTOR, configuration={})


def populate_memory(
    store: MemoryStore,
    tenants: int,
    connectors: int,
    upstream_url: str,
    connector_type: str = "github",
    *,
    echo: bool = False,
) -> dict[str, str]:
    """Fill a `MemoryStore`; returns `{slug: raw API key}`.

    `MemoryStore.add_tenant` and `add_connector` check uniqueness by scanning every
    row (quadratic over 10,000 tenants), so for more than a few hundred tenants the
    rows are put in the store's dictionaries directly, after the same checks done once.
    """
    keys: dict[str, str] = {}
    config = connector_configuration(upstream_url)
    bulk = tenants > 200 and hasattr(store, "_tenants") and hasattr(store, "_connectors")
    for i in range(tenants):
        tenant = Tenant(slug=slug(i), name=f"Tenant {i}")
        cfgs = [
            ConnectorConfig(
                tenant_id=tenant.id, connector_type=connector_type, name=connector_name(j), configuration=config
            )
            for j in range(connectors)
        ]
        if echo and i == 0:
            cfgs.append(echo_config(tenant.id))
        if bulk:
            store._tenants[tenant.id] = tenant
            for cfg in cfgs:
                store._connectors[cfg.id] = cfg
        else:
            store.add_tenant(tenant)
            for cfg in cfgs:
                store.add_connector(cfg)
        store.put_credential(
            Credential(tenant_id=tenant.id, provider=PROVIDER, kind="bearer", access_token=UPSTREAM_TOKEN)
        )
        keys[tenant.slug], _ = store.create_api_key(tenant.id, name="bench")
    return keys


async def populate_sql(
    url: str,
    secret_keys: str,
    tenants: int,
    connectors: int,
    upstream_url: str,
    connector_type: str = "github",
    *,
    echo: bool = False,
) -> dict[str, str]:
    """Create the schema and fill the server's SQL store at `url`; returns `{slug: raw API key}`."""
    from sagemcp.platform import SecretBox
    from sagemcp_server.db.engine import create_engine  # type: ignore[import-not-found]
    from sagemcp_server.db.migrate import upgrade  # type: ignore[import-not-found]
    from sagemcp_server.db.store import SqlStore  # type: ignore[import-not-found]

    engine = create_engine(url)
    await upgrade(engine)
    store = SqlStore(engine, SecretBox.from_env_value(secret_keys))
    keys: dict[str, str] = {}
    config = connector_configuration(upstream_url)
    try:
        for i in range(tenants):
            tenant = (await store.create_tenant(slug(i), name=f"Tenant {i}")).item
            for j in range(connectors):
                await store.add_connector(
                    ConnectorConfig(
                        tenant_id=tenant.id, connector_type=connector_type, name=connector_name(j), configuration=config
                    )
                )
            if echo and i == 0:
                await store.add_connector(echo_config(tenant.id))
            await store.put_credential(
                Credential(tenant_id=tenant.id, provider=PROVIDER, kind="bearer", access_token=UPSTREAM_TOKEN)
            )
            keys[tenant.slug], _ = await store.create_api_key(tenant.id, name="bench")
    finally:
        await engine.dispose()
    return keys


def write_keys(path: Path, keys: dict[str, str]) -> None:
    path.write_text(json.dumps(keys))
    path.chmod(0o600)


def read_keys(path: Path, timeout: float = 120.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no API keys written to {path}")
        time.sleep(0.05)
    keys: dict[str, str] = json.loads(path.read_text())
    return keys


def sql_available() -> str | None:
    """None when the server's SQL store can be imported, else why not."""
    try:
        import sagemcp_server.db.engine  # type: ignore[import-not-found]
        import sagemcp_server.db.migrate  # type: ignore[import-not-found]
        import sagemcp_server.db.store  # type: ignore[import-not-found]  # noqa: F401
    except Exception as exc:
        return f"sagemcp_server's SQL store cannot be imported ({type(exc).__name__}: {exc})"
    return None
