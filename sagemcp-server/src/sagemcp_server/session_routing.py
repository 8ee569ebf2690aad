"""Stateful MCP sessions across replicas: a registry in Redis and a signed internal forward.

Each replica registers the sessions it holds under `{prefix}mcp-session:{id}` with its replica id
and the URL other replicas reach it at (`SAGEMCP_REPLICA_URL`). A request for a session another
replica holds is forwarded there over HTTP, streamed both ways (an SSE answer or a `GET` stream
stays open for as long as the client keeps it), with the header `X-SageMCP-Forwarded`: an HMAC
over the target replica, a timestamp, the request line and the caller binding the forwarding
replica admitted. The holder verifies it, admits the request again with the client's own
credentials (so a session stays bound to the tenant, connector and caller that opened it, exactly
as on one replica) and never forwards it again.

Entries expire `ttl` seconds after the holder last renewed them (every `ttl / 3`): the sessions
of a replica that died are then unknown and answered 404 with a JSON-RPC error telling the client
to start a new session; one whose replica refuses connections is answered 404 at once.

Redis down: a replica still serves the sessions it holds (re-registered when Redis is back);
a request that needs the registry gets 503 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterable
from http.cookiejar import CookieJar, DefaultCookiePolicy

import anyio
import httpx
from redis.asyncio import Redis
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from sagemcp.mcp import SESSION_GONE

from .settings import Settings

__all__ = [
    "FORWARD_HEADER",
    "HELD_BY_HEADER",
    "ForwardSigner",
    "RedisSessionRouter",
    "build_session_router",
    "replica_url",
]

logger = logging.getLogger("sagemcp_server.sessions")

FORWARD_HEADER = "x-sagemcp-forwarded"
HELD_BY_HEADER = "x-sagemcp-held-by"
"""Response header of a forwarded answer: the id of the replica that holds the session."""
MAX_SKEW = 30.0
"""Seconds a forward's signature stays valid (clock skew between replicas plus transit)."""
RETRY_AFTER = 2
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"host",
        FORWARD_HEADER.encode(),
    }
)
# Delete an entry only while it still names the replica that wrote it (a new holder may have taken the id).
_DELETE_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class ForwardSigner:
    """Signs and verifies the header that marks a request forwarded by another replica."""

    def __init__(self, secret: bytes, *, max_skew: float = MAX_SKEW) -> None:
        self._key = hashlib.sha256(b"sagemcp mcp session forward\0" + secret).digest()
        self.max_skew = max_skew

    def _mac(self, claims: bytes, method: str, target: str) -> str:
        message = b"\n".join([claims, method.encode(), target.encode("latin-1")])
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, *, to: str, binding: str, method: str, target: str, now: float | None = None) -> str:
        """The header value for a request to replica `to` (`target`: path plus query string)."""
        claims = json.dumps({"to": to, "ts": round(now if now is not None else time.time(), 3), "b": binding})
        encoded = base64.urlsafe_b64encode(claims.encode()).decode("ascii")
        return f"{encoded}.{self._mac(encoded.encode(), method, target)}"

    def verify(self, value: str, *, me: str, binding: str, method: str, target: str, now: float | None = None) -> bool:
        """Whether `value` is a fresh signature for this replica, this request line and this caller."""
        encoded, _, mac = value.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(encoded.encode(), method, target).encode()):
            return False
        try:
            claims = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
            fresh = abs((now if now is not None else time.time()) - float(claims["ts"])) <= self.max_skew
            return bool(fresh and claims["to"] == me and claims["b"] == binding)
        except (ValueError, KeyError, TypeError):
            return False


def _target(scope: Scope) -> str:
    """Path plus query string of the request as the client sent it (the full path, mounts included)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and not path.startswith(root):
        path = root + path
    query: bytes = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32000 if status == 503 else -32600, "message": message}}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


class RedisSessionRouter:
    """`sagemcp.mcp.SessionRouter` on Redis: which replica holds which session, and the forward to it."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        replica_id: str,
        replica_url: str,
        signer: ForwardSigner,
        ttl: float = 30.0,
        http: httpx.AsyncClient | None = None,
        max_forwards: int = 1000,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.replica_id = replica_id
        self.replica_url = replica_url.rstrip("/")
        self.signer = signer
        self.ttl = ttl
        self._entry = f"{replica_id} {self.replica_url}"
        self._local: set[str] = set()
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(connect=2.0, read=None, write=10.0, pool=5.0),
            limits=httpx.Limits(max_connections=max_forwards, max_keepalive_connections=32),
            follow_redirects=False,
            trust_env=False,  # replicas talk directly, never through the outbound proxy
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # one client for every caller: keep none
        )
        self._forwards = anyio.Semaphore(max_forwards)
        self.registry_ok = True
        """Whether the last registry write or read worked."""

    def key(self, session_id: str) -> str:
        return f"{self.prefix}mcp-session:{session_id}"

    # -- the registry ----------------------------------------------------------------------

    async def opened(self, session_id: str) -> None:
        self._local.add(session_id)
        try:
            await self.redis.set(self.key(session_id), self._entry, px=int(self.ttl * 1000))
            self.registry_ok = True
        except Exception as exc:
            if self.registry_ok:  # once per outage, not once per session
                logger.warning(
                    "cannot register MCP sessions in Redis (%s): each is served only by its replica until Redis is "
                    "back",
                    type(exc).__name__,
                )
            self.registry_ok = False

    async def closed(self, session_id: str) -> None:
        self._local.discard(session_id)
        try:
            await self.redis.eval(_DELETE_IF_OURS, 1, self.key(session_id), self._entry)  # type: ignore[misc]
        except Exception as exc:
            # The entry expires on its own within `ttl`.
            logger.info("cannot remove an ended MCP session from Redis (%s)", type(exc).__name__)

    async def renew(self) -> None:
        """Write every local session's entry again: renews their expiry, and restores them after Redis lost them."""
        held = list(self._local)
        try:
            for start in range(0, len(held), 500):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for session_id in held[start : start + 500]:
                        pipe.set(self.key(session_id), self._entry, px=int(self.ttl * 1000))
                    await pipe.execute()
            self.registry_ok = True
        except Exception as exc:
            if self.registry_ok:
                logger.warning("cannot renew %d MCP sessions in Redis (%s)", len(held), type(exc).__name__)
            self.registry_ok = False

    async def run(self) -> None:
        """Renew the registry every `ttl / 3` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            await self.renew()

    async def aclose(self) -> None:
        """Unregister what this replica still holds (a clean stop) and close the forwarding client."""
        await self._forget(self._local)
        self._local.clear()
        await self._http.aclose()

    async def _forget(self, sessions: Iterable[str]) -> None:
        with contextlib.suppress(Exception):
            for session_id in list(sessions):
                await self.redis.eval(_DELETE_IF_OURS, 1, self.key(session_id), self._entry)  # type: ignore[misc]

    async def holder(self, session_id: str) -> tuple[str, str] | None:
        """The replica id and URL registered for a session, or None. Raises when Redis cannot be reached."""
        raw = await self.redis.get(self.key(session_id))
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        replica, _, url = text.partition(" ")
        return replica, url

    # -- forwarding ------------------------------------------------------------------------

    def inbound(self, scope: Scope, binding: str) -> bool | None:
        value = _header(scope, FORWARD_HEADER.encode())
        if value is None:
            return None
        ok = self.signer.verify(
            value, me=self.replica_id, binding=binding, method=scope["method"], target=_target(scope)
        )
        if not ok:
            logger.warning("refused a request with an invalid or stale replica forward signature")
        return ok

    async def forward(
        self, session_id: str, binding: str, scope: Scope, body: bytes | None, receive: Receive, send: Send
    ) -> None:
        try:
            found = await self.holder(session_id)
            self.registry_ok = True
        except Exception as exc:
            self.registry_ok = False
            logger.warning("cannot look up an MCP session in Redis (%s)", type(exc).__name__)
            message = (
                "The server cannot find which replica holds this session right now (its session registry is "
                f"unreachable). Retry in {RETRY_AFTER} seconds, or start a new session."
            )
            await _error(503, message, {"Retry-After": str(RETRY_AFTER)})(scope, receive, send)
            return
        if found is None or found[0] == self.replica_id:
            if found is not None:
                await self._forget([session_id])  # registered here but no longer held: a stale entry
            await _error(404, SESSION_GONE)(scope, receive, send)
            return
        replica, url = found
        await self._relay(session_id, replica, url, binding, scope, body, receive, send)

    async def _relay(
        self,
        session_id: str,
        replica: str,
        url: str,
        binding: str,
        scope: Scope,
        body: bytes | None,
        receive: Receive,
        send: Send,
    ) -> None:
        target = _target(scope)
        method: str = scope["method"]
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        host = _header(scope, b"host")
        if host is not None:
            headers.append((b"host", host.encode("latin-1")))  # the holder checks the Host the client sent
        signature = self.signer.sign(to=replica, binding=binding, method=method, target=target)
        headers.append((FORWARD_HEADER.encode(), signature.encode()))
        request = self._http.build_request(method, url + target, headers=headers, content=body)
        try:
            self._forwards.acquire_nowait()
        except anyio.WouldBlock:
            message = f"This replica is forwarding as many requests as it can. Retry in {RETRY_AFTER} seconds."
            await _error(503, message, {"Retry-After": str(RETRY_AFTER)})(scope, receive, send)
            return
        try:
            try:
                response = await self._http.send(request, stream=True)
            except httpx.ConnectError:
                # Nothing listens at the holder's address: it stopped, so its sessions are gone.
                logger.info("the replica holding an MCP session refused the connection: session ended")
                with contextlib.suppress(Exception):
                    await self.redis.eval(_DELETE_IF_OURS, 1, self.key(session_id), f"{replica} {url}")  # type: ignore[misc]
                await _error(404, SESSION_GONE)(scope, receive, send)
                return
            except httpx.HTTPError as exc:
                logger.warning(
                    "cannot forward a request to the replica holding its MCP session (%s)", type(exc).__name__
                )
                message = f"The replica holding this session does not answer. Retry in {RETRY_AFTER} seconds."
                await _error(503, message, {"Retry-After": str(RETRY_AFTER)})(scope, receive, send)
                return
            try:
                await self._stream_back(response, replica, receive, send)
            finally:
                await response.aclose()
        finally:
            self._forwards.release()

    async def _stream_back(self, response: httpx.Response, replica: str, receive: Receive, send: Send) -> None:
        """Relay the holder's answer as it arrives, until it ends or the client goes away."""
        kept = [(k.lower(), v) for k, v in response.headers.raw if k.lower() not in _HOP_BY_HOP]
        kept.append((HELD_BY_HEADER.encode(), replica.encode("latin-1")))
        await send({"type": "http.response.start", "status": response.status_code, "headers": kept})

        async with anyio.create_task_group() as tg:

            async def client_gone() -> None:
                while True:
                    message: Message = await receive()
                    if message["type"] == "http.disconnect":
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(client_gone)
            try:
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except httpx.HTTPError:
                logger.info("the replica holding an MCP session closed its answer early")
            with contextlib.suppress(OSError, RuntimeError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            tg.cancel_scope.cancel()


def replica_url(settings: Settings) -> str:
    """Where other replicas reach this process: `replica_url`, else this host's address and `port`."""
    if settings.replica_url is not None:
        url = settings.replica_url.rstrip("/")
        scheme, _, rest = url.partition("://")
        if rest.count(":") > 1 and not rest.startswith("["):
            # `http://$(POD_IP):8000` with an IPv6 pod address: bracket it.
            host, _, port = rest.rpartition(":")
            url = f"{scheme}://[{host}]:{port}"
        return url
    host = settings.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a bind address: find the one others can reach
        try:
            host = socket.gethostbyname(socket.gethostname())
        except OSError:
            host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def build_session_router(settings: Settings, redis: Redis | None) -> RedisSessionRouter | None:
    """The router for these settings: None unless sessions are stateful and `SAGEMCP_REDIS_URL` is set."""
    if redis is None or not settings.mcp_stateful:
        return None
    if settings.replica_secret is not None:
        secret = settings.replica_secret.get_secret_value().encode()
    elif settings.secret_keys is not None:
        secret = settings.secret_keys.get_secret_value().encode()
    else:
        raise ValueError(
            "SAGEMCP_REDIS_URL with stateful MCP sessions needs a key to sign requests between replicas: "
            "set SAGEMCP_REPLICA_SECRET (or SAGEMCP_SECRET_KEYS) to the same value on every replica"
        )
    if settings.workers > 1:
        logger.warning(
            "SAGEMCP_WORKERS=%d with SAGEMCP_REDIS_URL: a session forwarded to this address may reach another "
            "worker; run one worker per replica and scale with replicas",
            settings.workers,
        )
    name = (socket.gethostname() or "replica")[:40]
    return RedisSessionRouter(
        redis,
        prefix=settings.redis_key_prefix,
        replica_id=f"{name}-{secrets.token_hex(4)}",
        replica_url=replica_url(settings),
        signer=ForwardSigner(secret),
        ttl=max(15.0, min(60.0, settings.mcp_session_idle_timeout)),
        max_forwards=settings.http_max_connections or 1000,
    )
