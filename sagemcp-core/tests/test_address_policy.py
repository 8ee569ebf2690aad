"""Where upstream requests may go: base URLs judged as httpx sends them, addresses checked when connecting.

The configuration-time check (`validate_api_url`) judges the host after httpx's normalisation, and the
IPv4 address inside IPv4-embedding IPv6 forms; the connect-time check (`AddressGuard`) judges every
address a host name resolves to, at every connection, and connects to exactly those addresses. Every
failure to get an answer reads the same, so a tool result cannot tell open, closed and unknown ports apart.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpcore
import pytest

from sagemcp import validate_api_url
from sagemcp._netbackend import AddressGuard
from sagemcp._urls import ALLOW_ENV, address_permitted, allow_list
from sagemcp.errors import UpstreamUnavailable
from sagemcp.platform import ALLOW_LOOPBACK_ENV, UpstreamClient

EXAMPLE = "https://api.example"


@pytest.fixture(autouse=True)
def _production_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_LOOPBACK_ENV, raising=False)
    monkeypatch.delenv(ALLOW_ENV, raising=False)


# -- configuration time: the host as httpx sends it ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127\u30020\u30020\u30021/", "this machine"),  # ideographic full stops
        ("https://127\uff0e0\uff0e0\uff0e1/", "this machine"),  # full-width full stops
        ("https://169\uff61254\uff61169\uff61254/", "non-public address 169.254.169.254"),  # half-width ideographic
        ("https://10\u30020\u30020\u30021/api/v3", "non-public address 10.0.0.1"),
        ("https://localhost\u3002/", "this machine"),
        ("https://[::ffff:a9fe:a9fe]/", "non-public address 169.254.169.254"),  # IPv4-mapped
        ("https://[::ffff:169.254.169.254]/", "non-public address 169.254.169.254"),
        ("https://[::169.254.169.254]/", "non-public address 169.254.169.254"),  # IPv4-compatible
        ("https://[::a00:1]/", "non-public address 10.0.0.1"),
        ("https://[64:ff9b::a9fe:a9fe]/", "non-public address 169.254.169.254"),  # NAT64
        ("https://[2002:a9fe:a9fe::1]/", "non-public address 169.254.169.254"),  # 6to4
        ("https://[::ffff:7f00:1]/", "this machine"),
        ("https://[::127.0.0.1]/", "this machine"),
        ("https://[64:ff9b:1::a00:1]/", "non-public"),  # local-use NAT64
        ("https://[fec0::1]/", "non-public"),  # site-local
        ("https://224.0.0.1/", "non-public"),  # multicast
        ("https://%31%32%37.0.0.1/", "invalid host name"),
        ("https://ghe.example\\@evil.example/", "backslashes"),
    ],
)
def test_spellings_that_httpx_normalises_are_judged_as_sent(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_api_url(url, example=EXAMPLE)


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://API.Example.COM./v3/", "https://api.example.com/v3"),
        ("https://b\u00fccher.example/api/", "https://xn--bcher-kva.example/api"),
        ("https://ghe.example.com:443/api/v3", "https://ghe.example.com/api/v3"),
        ("https://ghe.example.com:8443", "https://ghe.example.com:8443"),
        ("https://[::ffff:8.8.8.8]/", "https://[::ffff:8.8.8.8]"),
    ],
)
def test_the_normalised_url_is_what_httpx_sends(url: str, normalised: str) -> None:
    assert validate_api_url(url, example=EXAMPLE) == normalised


def test_the_operator_allow_lists_private_networks_and_hosts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match=f"allow a trusted private network with {ALLOW_ENV}"):
        validate_api_url("https://10.20.1.5/api/v3", example=EXAMPLE)
    monkeypatch.setenv(ALLOW_ENV, "10.20.0.0/16, ghe.corp.example ,.internal.example,not a host!")
    with caplog.at_level(logging.WARNING, logger="sagemcp._urls"):
        allowed = allow_list()
    assert "'not a host!' is neither a network" in caplog.text
    assert validate_api_url("https://10.20.1.5/api/v3", example=EXAMPLE) == "https://10.20.1.5/api/v3"
    assert validate_api_url("https://[::ffff:10.20.1.5]/", example=EXAMPLE) == "https://[::ffff:10.20.1.5]"
    with pytest.raises(ValueError, match=r"non-public address 10\.21\.0\.1"):
        validate_api_url("https://10.21.0.1/", example=EXAMPLE)
    with pytest.raises(ValueError, match="must use https"):
        validate_api_url("http://10.20.1.5/", example=EXAMPLE)
    assert allowed.allows_host("ghe.corp.example") and allowed.allows_host("GHE.corp.example.")
    assert allowed.allows_host("a.internal.example") and not allowed.allows_host("internal.example.evil")
    assert not allowed.allows_host("corp.example")
    import ipaddress

    assert address_permitted(ipaddress.ip_address("10.20.255.1"))
    assert not address_permitted(ipaddress.ip_address("10.21.0.1"))
    assert not address_permitted(ipaddress.ip_address("127.0.0.1"))
    assert address_permitted(ipaddress.ip_address("8.8.8.8"))


def test_loopback_through_the_allow_list_still_needs_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    assert validate_api_url("https://127.0.0.1:8443", example=EXAMPLE) == "https://127.0.0.1:8443"
    with pytest.raises(ValueError, match="must use https"):
        validate_api_url("http://127.0.0.1:8443", example=EXAMPLE)


# -- connect time: every address a name resolves to ----------------------------------------------------


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where connections would go, and connects nowhere."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        return httpcore.AsyncMockStream([])

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


Resolver = Callable[..., Awaitable[list[Any]]]


def resolving(answers: dict[str, list[list[str]]]) -> tuple[Resolver, list[str]]:
    """A fake `anyio.getaddrinfo`: each name answers its lists of addresses in turn (the last one repeats)."""
    asked: list[str] = []

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        turn = answers[host][min(asked.count(host), len(answers[host])) - 1]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in turn]

    return getaddrinfo, asked


async def test_a_name_that_resolves_to_an_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver, _ = resolving({"ghe.attacker.example": [["93.184.216.34", "10.0.0.7"]]})
    monkeypatch.setattr(anyio, "getaddrinfo", resolver)
    inner = RecordingBackend()
    with pytest.raises(httpcore.ConnectError, match="may not go to"):
        await AddressGuard(inner).connect_tcp("ghe.attacker.example", 443, timeout=1)
    assert inner.connects == []  # not even the public address: it would be a coin toss which one is used


async def test_dns_rebinding_is_caught_at_the_next_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver, asked = resolving({"rebind.example": [["93.184.216.34"], ["169.254.169.254"]]})
    monkeypatch.setattr(anyio, "getaddrinfo", resolver)
    inner = RecordingBackend()
    guard = AddressGuard(inner)
    await guard.connect_tcp("rebind.example", 443, timeout=1)
    assert inner.connects == [("93.184.216.34", 443)]  # to the address checked, never the name again
    with pytest.raises(httpcore.ConnectError):
        await guard.connect_tcp("rebind.example", 443, timeout=1)
    assert inner.connects == [("93.184.216.34", 443)] and asked == ["rebind.example"] * 2


async def test_an_allow_listed_name_is_connected_to_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "ghe.corp.example")
    resolver, asked = resolving({})
    monkeypatch.setattr(anyio, "getaddrinfo", resolver)
    inner = RecordingBackend()
    await AddressGuard(inner).connect_tcp("ghe.corp.example", 443)
    assert inner.connects == [("ghe.corp.example", 443)] and asked == []
    with pytest.raises(httpcore.ConnectError):
        await AddressGuard(inner).connect_unix_socket("/var/run/docker.sock")


@asynccontextmanager
async def listener(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1; yields its port and the first bytes of each connection it accepted."""
    seen: list[bytes] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen.append(await asyncio.wait_for(reader.read(4096), 2))
            await handle(reader, writer)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], seen


async def answer_json(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}')
    await writer.drain()


async def test_through_the_client_a_name_resolving_to_loopback_needs_the_switch(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with listener(answer_json) as (port, seen), UpstreamClient(timeout=2, max_retries=0) as client:
        resolver, _ = resolving({"ghe.attacker.example": [["127.0.0.1"]]})
        monkeypatch.setattr(anyio, "getaddrinfo", resolver)
        bound = client.bind(
            base_url=f"https://ghe.attacker.example:{port}", provider="github", headers={"Authorization": "Bearer t0k"}
        )
        with caplog.at_level(logging.WARNING, logger="sagemcp._netbackend"), pytest.raises(UpstreamUnavailable):
            await bound.get("user")
        assert seen == []
        assert "ghe.attacker.example: it resolves to 127.0.0.1" in caplog.text and ALLOW_LOOPBACK_ENV in caplog.text
        monkeypatch.setenv(ALLOW_LOOPBACK_ENV, "1")
        plain = client.bind(base_url=f"http://upstream.test:{port}", provider="probe")
        resolver, _ = resolving({"upstream.test": [["127.0.0.1"]]})
        monkeypatch.setattr(anyio, "getaddrinfo", resolver)
        assert (await plain.get("x")).json() == {"ok": True}
    assert len(seen) == 1 and b"\r\nHost: upstream.test:" in seen[0]  # the checked address, the name's Host


# -- every failure to get an answer reads the same -----------------------------------------------------


async def stay_silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(5)


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")  # an open port with another protocol behind it
    await writer.drain()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_open_closed_silent_and_unknown_ports_cannot_be_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_LOOPBACK_ENV, "1")
    real = anyio.getaddrinfo

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        if host == "blocked.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port))]
        if host == "unknown.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return await real(host, port, **kwargs)

    monkeypatch.setattr(anyio, "getaddrinfo", getaddrinfo)
    texts: dict[str, str] = {}
    async with (
        listener(stay_silent) as (silent, _),
        listener(hang_up) as (other_protocol, _),
        UpstreamClient(timeout=0.5, connect_timeout=0.5, max_retries=0) as client,
    ):
        targets = {
            "closed": f"http://127.0.0.1:{closed_port()}",
            "open, silent": f"http://127.0.0.1:{silent}",
            "open, another protocol": f"http://127.0.0.1:{other_protocol}",
            "unknown host": "http://unknown.example:8080",
            "not a permitted address": "http://blocked.example:6379",
        }
        for name, base in targets.items():
            with pytest.raises(UpstreamUnavailable) as caught:
                await client.bind(base_url=base, provider="github").get("probe")
            texts[name] = caught.value.message
    assert len(set(texts.values())) == 1, texts
    assert texts["closed"].startswith("could not reach github for GET /probe: no connection, or no answer within 0.5")
