"""Property-based run of schemathesis against /api/v1/openapi.json: no 5xx, no response outside the schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="install sagemcp-server[testing] for the schemathesis run")

from conftest import ADMIN_KEY, POSTGRES_URL, TABLES  # noqa: E402
from helpers import FakeConnector, TokenOnlyConnector  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from procs import free_port  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from test_multiprocess import ThreadServer  # noqa: E402

from sagemcp.platform import ConnectorRegistry, SecretBox  # noqa: E402
from sagemcp_server.app import create_app  # noqa: E402
from sagemcp_server.connectors.demo import DemoConnector  # noqa: E402
from sagemcp_server.db import create_engine  # noqa: E402
from sagemcp_server.settings import Settings  # noqa: E402


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import httpx
    import uvicorn

    directory: Path = tmp_path_factory.mktemp("schemathesis")
    extra: dict[str, str] = {}
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL tests need SAGEMCP_TEST_POSTGRES_URL")
        extra = {"database_url": POSTGRES_URL, "database_schema": request.getfixturevalue("_postgres_schema")}
        asyncio.run(_truncate(extra["database_schema"]))
    port = free_port()
    app = create_app(
        Settings(data_dir=directory, secret_keys=SecretBox.generate_key(), admin_key=ADMIN_KEY, port=port, **extra),
        registry=ConnectorRegistry([DemoConnector, FakeConnector, TokenOnlyConnector]),
    )
    server = ThreadServer(app, port)
    server.server.config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    with server:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        httpx.post(f"{base}/api/v1/admin/tenants", json={"slug": "acme"}, headers=headers).raise_for_status()
        for kind, name in (("demo", "github"), ("fake", "fake")):
            httpx.post(
                f"{base}/api/v1/admin/tenants/acme/connectors",
                json={"connector_type": kind, "name": name},
                headers=headers,
            ).raise_for_status()
        yield base


async def _truncate(schema: str) -> None:
    from sqlalchemy import text

    assert POSTGRES_URL
    engine = create_engine(POSTGRES_URL, schema=schema)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    await engine.dispose()


def test_api_conforms_to_its_schema(live_url: str) -> None:
    from hypothesis import given

    api = schemathesis.openapi.from_url(f"{live_url}/api/v1/openapi.json")
    failures: list[str] = []
    count = 0
    operations = [result.ok() for result in api.get_all_operations()]
    # Positive cases exercise the handlers; negative ones (invalid bodies, parameters) must get 4xx, never 5xx.
    for mode, operation in [(m, op) for m in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) for op in operations]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(
                base_url=live_url,
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        count += 1
        try:
            check()
        except Exception as exc:  # keep going: report every operation that fails
            failures.append(f"{mode.value} {operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert count >= 40
    import httpx

    metrics = httpx.get(f"{live_url}/metrics").text
    served = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("sagemcp_http_requests_total{") and "/api/v1/admin" in line
    )
    assert served >= count * 5, f"only {served} requests reached the API"
    statuses = {
        line.split('status="')[1].split('"')[0]
        for line in metrics.splitlines()
        if line.startswith("sagemcp_http_requests_total{")
    }
    assert not any(s.startswith("5") for s in statuses), statuses
    assert not failures, "\n\n".join(failures)
