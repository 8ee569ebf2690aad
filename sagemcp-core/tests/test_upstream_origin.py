"""`BoundClient.for_origin`: a second host on the same pool never receives the call's credentials."""

from __future__ import annotations

import httpx

from sagemcp.platform import UpstreamClient


async def test_other_origin_gets_only_the_headers_given() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async with UpstreamClient(transport=httpx.MockTransport(handler)) as upstream:
        api = upstream.bind(base_url="https://api.example", provider="demo", headers={"Authorization": "Bearer s3cret"})
        files = api.for_origin("https://files.example/", headers={"X-Upload": "1"})
        await files.post("/upload", content=b"bytes")
        await api.get("/me")
    upload, me = seen
    assert upload.url.host == "files.example"
    assert "authorization" not in upload.headers
    assert upload.headers["x-upload"] == "1"
    assert me.headers["authorization"] == "Bearer s3cret"
    assert files.provider == "demo"
