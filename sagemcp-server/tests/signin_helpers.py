"""Helpers for the sign-in tests: fast password hashing, users, and a browser that signs in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from conftest import Server, running

from sagemcp.platform import ConnectorRegistry
from sagemcp_server.settings import Settings

PASSWORD = "correct horse battery staple"
FAST_HASHING = {"password_memory_kib": 8192, "password_time_cost": 1}
"""argon2id parameters that keep the tests quick; production defaults are 64 MiB and 3 passes."""

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def fast(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={**FAST_HASHING, **changes})


@asynccontextmanager
async def people_server(
    settings: Settings, registry: ConnectorRegistry, provider: Any, **changes: Any
) -> AsyncIterator[Server]:
    async with running(fast(settings, **changes), registry, provider) as server:
        yield server


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF_RE.search(page.text)
    assert found, page.text
    return found.group(1)


async def create_user(server: Server, email: str, password: str | None = PASSWORD, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"email": email, **extra}
    if password is not None:
        body["password"] = password
    r = await server.admin.post("/api/v1/admin/users", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def add_member(server: Server, slug: str, email: str, role: str) -> None:
    r = await server.admin.post(f"/api/v1/admin/tenants/{slug}/members", json={"email": email, "role": role})
    assert r.status_code == 201, r.text


async def sign_in(
    browser: httpx.AsyncClient, email: str, password: str = PASSWORD, next_path: str = "/account"
) -> httpx.Response:
    page = await browser.get("/signin", params={"next": next_path})
    if page.status_code == 303:  # signed in already: the account page carries the session's token
        page = await browser.get("/account")
    assert page.status_code == 200, page.text
    return await browser.post(
        "/signin", data={"email": email, "password": password, "csrf_token": csrf_of(page), "next": next_path}
    )


@asynccontextmanager
async def signed_in(
    server: Server, email: str, password: str = PASSWORD
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser signed in as `email`, and its CSRF token (for X-CSRF-Token)."""
    async with server.browser() as browser:
        r = await sign_in(browser, email, password)
        assert r.status_code == 303, r.text
        me = await browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        yield browser, str(me.json()["csrf_token"])
