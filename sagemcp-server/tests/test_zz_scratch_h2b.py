import json
from conftest import Server

async def test_probe(server: Server) -> None:
    await server.tenant("acme")
    deep = {}
    cur = deep
    for _ in range(300):
        cur["a"] = {}
        cur = cur["a"]
    r = await server.admin.put("/api/v1/admin/tenants/acme/credentials/tokenonly", json={"token": "tok-12345678", "extra": deep})
    print("deep put", r.status_code, r.text[:200])
    r = await server.admin.get("/api/v1/admin/tenants/acme/credentials")
    print("list", r.status_code, r.text[:200])
    raw = '{"token": "tok-12345678", "extra": {"x": 1e999}}'
    r = await server.admin.put("/api/v1/admin/tenants/acme/credentials/tokenonly", content=raw, headers={"content-type": "application/json"})
    print("inf put", r.status_code, r.text[:300])
    r = await server.admin.get("/api/v1/admin/tenants/acme/credentials")
    print("list", r.status_code, r.text[:200])
    raw = '{"client_id": "x", "extra": {"x": 1e999}}'
    r = await server.admin.put("/api/v1/admin/tenants/acme/oauth-apps/fake", content=raw, headers={"content-type": "application/json"})
    print("app inf put", r.status_code, r.text[:300])
