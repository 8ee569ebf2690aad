"""End to end: a resumable upload over real sockets, from the official MCP client to a local fake of Drive.

Core's MCP app runs under uvicorn (`sagemcp.testing.serve`) as an embedding application would run it,
with a request-size limit raised for large uploads (`McpSettings.max_body_bytes`); the connector's Drive
endpoint is a second local server (Starlette) that stands for `www.googleapis.com`: it checks every
request against Drive's discovery document, runs `UploadSessions` (Google's resumable protocol) and
answers with session URIs on its own address. Nothing is mocked between the client and that server.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import httpx2
import pytest
from google_support import FakeGoogle, distinct_bytes
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient
from sagemcp.testing import fake_credential, serve
from sagemcp_google import GoogleConnector

pytestmark = pytest.mark.e2e

TOKEN = "e2e-token"
GOOGLE = "https://www.googleapis.com"
MiB = 1024 * 1024
TIMEOUT = 60.0


@dataclass
class Servers:
    mcp_url: str
    api_key: str
    google: FakeGoogle
    violations: list[str]


def drive_app(google: FakeGoogle, violations: list[str], own: list[str]) -> Starlette:
    async def api(request: Request) -> Response:
        raw_path = request.scope["raw_path"].decode("ascii")
        stands_for = httpx.Request(
            request.method,
            httpx.URL(f"{GOOGLE}{raw_path}", query=request.url.query.encode()),
            headers=request.headers.raw,
            content=await request.body(),
        )
        try:
            answer = google(stands_for)
        except AssertionError as exc:
            violations.append(str(exc))
            return JSONResponse({"error": {"code": 400, "message": "Not described"}}, 400)
        headers = {k: v for k, v in answer.headers.items() if k.lower() in ("location", "range", "content-type")}
        if "location" in headers:
            headers["location"] = headers["location"].replace(GOOGLE, own[0])
        return Response(answer.content, status_code=answer.status_code, headers=headers)

    return Starlette(routes=[Route("/{rest:path}", api, methods=["GET", "POST", "PUT", "PATCH"])])


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    google = FakeGoogle()
    violations: list[str] = []
    own: list[str] = []
    async with serve(drive_app(google, violations, own)) as drive_url:
        own.append(drive_url)
        store = MemoryStore()
        tenant = store.add_tenant(Tenant(slug="acme", name="Acme Corp"))
        configuration = {"endpoints": {"drive": drive_url + "/"}, "upload_chunk_bytes": MiB}
        store.add_connector(
            ConnectorConfig(tenant_id=tenant.id, connector_type="google", name="google", configuration=configuration)
        )
        credential = fake_credential(GoogleConnector, TOKEN)
        assert credential is not None
        store.put_credential(credential.model_copy(update={"tenant_id": tenant.id}))
        api_key, _ = store.create_api_key(tenant.id, name="e2e")
        upstream = UpstreamClient()
        app = create_mcp_app(
            store,
            ConnectorRegistry([GoogleConnector]),
            upstream=upstream,
            settings=McpSettings(max_body_bytes=16 * MiB),
        )
        try:
            async with serve(app) as base:
                yield Servers(f"{base}/acme/connectors/google/mcp", api_key, google, violations)
        finally:
            await upstream.aclose()


async def test_a_large_file_is_uploaded_in_chunks_and_resumed_after_a_503(servers: Servers) -> None:
    data = distinct_bytes(5 * MiB + 536_633)
    servers.google.uploads.fail[2] = 503
    headers = {"Authorization": f"Bearer {servers.api_key}"}
    arguments = {
        "name": "archive.zip",
        "content_base64": base64.b64encode(data).decode(),
        "mime_type": "application/zip",
    }
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(TIMEOUT)) as http:
        async with Client(streamable_http_client(servers.mcp_url, http_client=http)) as client:  # type: ignore[arg-type]
            result = await client.call_tool("google_create_file", arguments)
    assert not result.is_error, result.content
    assert servers.violations == [] and servers.google.uploads.problems == []
    (session,) = servers.google.uploads.sessions.values()
    assert bytes(session.received) == data and session.file is not None
    assert result.structured_content is not None and result.structured_content["id"] == session.file["id"]
    requests = servers.google.requests
    assert [r.method for r in requests].count("POST") == 1
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)
    sent = [r.headers["content-range"] for r in requests if r.method == "PUT"]
    total = len(data)
    assert sent[2:4] == [f"bytes {2 * MiB}-{3 * MiB - 1}/{total}", f"bytes */{total}"]
    assert sent[-1] == f"bytes {5 * MiB}-{total - 1}/{total}"
