"""`UpstreamClient`: every HTTP call a connector makes to its upstream service.

This is the one place where httpx exceptions and upstream HTTP errors become
`sagemcp.errors.UpstreamError`s. One `UpstreamClient` per process owns the shared
connection pool; each tool call gets a `BoundClient` with the provider's base URL
and the tenant's auth headers fixed, which sends them only to the base URL's origin
and the origins the connector declares (`Connector.credential_origins`), and refuses
absolute URLs on any other origin. A credential bound to the origins it was stored
for (`Credential.origins`) goes nowhere else: a request to another origin fails
before anything is sent, saying to store the credential again for the new host.

Direct connections go only to permitted addresses, checked when the connection is
made (`sagemcp._netbackend.AddressGuard`, policy in `sagemcp._urls`). Every failure to
connect or to get an answer reads the same (refused, reset, unknown host, timed out,
address not permitted), so a tool result cannot be used to map which ports of a host
are open; the reason is logged for the operator.

Requests are retried only when that is safe: idempotent requests on 429 / 502 /
503 / 504 and dropped connections, any request that never reached the server,
waiting as `Retry-After` / `X-RateLimit-Reset` ask but never past the deadline.
Redirects are not followed (so no credential ever follows one to another origin)
and response bodies are capped. Requests go through the configured outbound proxy,
or the environment's (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`; see
`sagemcp._proxies`).
"""

from __future__ import annotations

import email.utils
import ipaddress
import json as jsonlib
import logging
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, TypedDict, TypeVar, Unpack, overload
from urllib.parse import unquote_plus

import anyio
import httpx

from . import _netbackend
from ._proxies import proxy_mounts
from ._urls import ALLOW_ENV
from .errors import (
    ReconnectRequired,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamBadResponse,
    UpstreamConflict,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnexpectedShape,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "BoundClient",
    "ErrorHook",
    "RateLimit",
    "RequestOptions",
    "ResponseObserver",
    "UpstreamClient",
    "UpstreamResponse",
    "map_status_error",
    "origin_of",
    "parse_link_header",
    "parse_rate_limit",
    "parse_retry_after",
]

logger = logging.getLogger("sagemcp._upstream")

# Methods retried once they may have reached the server. DELETE is not among them: a repeated delete
# can remove something created in between; tools whose delete is safe to repeat pass idempotent=True.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})

_sleep: Callable[[float], Awaitable[None]] = anyio.sleep
_Item = TypeVar("_Item")

_BACKOFF_BASE = 0.2
_BACKOFF_CAP = 5.0
_MESSAGE_LIMIT = 300
_ERROR_BODY_LIMIT = 64 * 1024
_MIN_SECRET_LENGTH = 8
_PUBLIC_HEADERS = frozenset({"accept", "accept-encoding", "accept-language", "content-type", "user-agent"})

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRY_IF_IDEMPOTENT = (
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
    httpx.WriteTimeout,
    httpx.WriteError,
)

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_LINK_RE = re.compile(rf"<([^>]*)>\s*((?:;\s*{_TOKEN}\s*(?:=\s*(?:{_QUOTED}|[^;,\s]*))?\s*)*)")
_LINK_PARAM_RE = re.compile(rf';\s*({_TOKEN})\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*)))?')
_RATELIMIT_FIELD_RE = re.compile(r"(?:^|[;,\s])(limit|remaining|reset|r|t)\s*=\s*(\d+(?:\.\d+)?)")
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_SCOPE_CHALLENGE_RE = re.compile(r'scope\s*=\s*"([^"]*)"', re.IGNORECASE)


@dataclass(frozen=True)
class RateLimit:
    """Rate-limit state reported by an upstream.

    `reset_at` is unix time; `retry_after` is seconds to wait, counted from when
    the response arrived.
    """

    limit: int | None
    remaining: int | None
    reset_at: float | None
    retry_after: float | None


class UpstreamResponse:
    """A fully read upstream answer (body at most the client's size cap)."""

    __slots__ = ("content", "elapsed", "headers", "method", "provider", "received_at", "status", "url")

    def __init__(
        self,
        status: int,
        *,
        headers: httpx.Headers | Mapping[str, str] | None = None,
        content: bytes = b"",
        url: str = "",
        method: str = "GET",
        provider: str = "upstream",
        elapsed: float = 0.0,
        received_at: float | None = None,
    ) -> None:
        self.status = status
        self.headers = headers if isinstance(headers, httpx.Headers) else httpx.Headers(headers)
        self.content = content
        self.url = url
        self.method = method
        self.provider = provider
        self.elapsed = elapsed
        self.received_at = time.time() if received_at is None else received_at

    def __repr__(self) -> str:
        return f"<UpstreamResponse {self.status} {self.method} {self.path}>"

    @property
    def path(self) -> str:
        """The request path without query string: safe to show in messages."""
        return _path_of(self.url)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        match = _CHARSET_RE.search(self.headers.get("content-type", ""))
        try:
            return self.content.decode(match.group(1) if match else "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; `UpstreamBadResponse` when it is not JSON."""
        try:
            return jsonlib.loads(self.content)
        except ValueError as exc:
            if not self.content.strip():
                reason = "empty body"
            elif isinstance(exc, jsonlib.JSONDecodeError):
                reason = f"{exc.msg} at byte {exc.pos}"
            else:
                reason = "not valid text"
            content_type = self.headers.get("content-type") or "none"
            raise UpstreamBadResponse(
                f"{self.provider} answered {self.method} {self.path} with invalid JSON "
                f"({reason}; status {self.status}, content-type {content_type}); "
                f"the service may be failing or returning an error page: try again later.",
                status=self.status,
                provider=self.provider,
            ) from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; `UpstreamUnexpectedShape` when it is JSON of another kind."""
        data = self.json()
        if not isinstance(data, dict):
            raise self._unexpected("a JSON object", data)
        return data

    @overload
    def json_list(self, key: str | None = None) -> list[Any]: ...

    @overload
    def json_list(self, key: str | None = None, *, of: type[_Item]) -> list[_Item]: ...

    def json_list(self, key: str | None = None, *, of: type[Any] | None = None) -> list[Any]:
        """The body as a JSON list, or the list under `key` of a JSON object; else `UpstreamUnexpectedShape`.

        With `of` (`dict`, `str`), items of other types are left out: one odd item (a null in a
        list of objects) should not fail a whole listing.
        """
        data = self.json()
        if key is not None:
            if not isinstance(data, dict):
                raise self._unexpected(f"a JSON object with a {key!r} list", data)
            data = data.get(key)
            if not isinstance(data, list):
                raise self._unexpected(f"a {key!r} list in the JSON object", data)
        elif not isinstance(data, list):
            raise self._unexpected("a JSON list", data)
        return data if of is None else [item for item in data if isinstance(item, of)]

    def _unexpected(self, expected: str, found: Any) -> UpstreamUnexpectedShape:
        return UpstreamUnexpectedShape(
            f"{self.provider} returned an unexpected response to {self.method} {self.path}: expected {expected}, "
            f"got {_json_kind(found)}; the API may have changed or the request reached the wrong endpoint: check the "
            "connector's base URL, try again, or report it.",
            status=self.status,
            provider=self.provider,
        )

    @property
    def rate_limit(self) -> RateLimit | None:
        """Rate-limit headers (`X-RateLimit-*`, `RateLimit-*`, `RateLimit`, `Retry-After`), if any."""
        return parse_rate_limit(self.headers, now=self.received_at)

    @property
    def links(self) -> dict[str, str]:
        """The RFC 8288 `Link` header as rel -> absolute URL (the first link of each rel wins)."""
        return parse_link_header(", ".join(self.headers.get_list("link")), self.url)


ErrorHook = Callable[[UpstreamResponse], UpstreamError | None]
ResponseObserver = Callable[[str, str, int | None, float], None]


class RequestOptions(TypedDict, total=False):
    """Keyword arguments of `BoundClient.request` after method and URL."""

    params: Mapping[str, Any] | None
    json: Any
    data: Mapping[str, Any] | None
    content: bytes | str | None
    headers: Mapping[str, str] | None
    idempotent: bool | None
    timeout: float | None
    allow_error_status: Container[int]


class _QueryRedactingFilter(logging.Filter):
    """Strips query strings from URLs in httpx's request log: some upstreams take keys as query parameters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(a.copy_with(query=None) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


_HTTPX_LOG_FILTER = _QueryRedactingFilter()


class UpstreamClient:
    """One per process: one shared httpx.AsyncClient connection pool for every tenant's upstream calls.

    `on_response(provider, method, status, seconds)` is called once per attempt
    (status None when no answer arrived). `sleep` and `clock` are seams for tests.

    `proxy` (`http://proxy.internal:3128`) sends every request through that proxy, except
    to hosts in `NO_PROXY`; without it the environment's proxy variables apply, unless a
    `transport` is given (tests), as with httpx. Direct connections and proxy connections
    both use the pool's cheap idle check (`sagemcp._netbackend`). Direct connections go
    only to permitted addresses (`sagemcp._urls`), checked at connect time; through a
    proxy, the proxy resolves the names, so its own access rules apply.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        retry_deadline: float = 30.0,
        max_response_bytes: int = 10 * 1024 * 1024,
        user_agent: str = "sagemcp/0.1",
        max_connections: int = 200,
        proxy: str | None = None,
        on_response: ResponseObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be at least 1")
        if _HTTPX_LOG_FILTER not in logging.getLogger("httpx").filters:
            logging.getLogger("httpx").addFilter(_HTTPX_LOG_FILTER)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.retry_deadline = retry_deadline
        self.max_response_bytes = max_response_bytes
        self._on_response = on_response
        self._sleep = sleep
        self._clock = clock
        self._timeout_extensions: dict[tuple[float, float], dict[str, Any]] = {}
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)

        def through(proxy: httpx.Proxy) -> httpx.AsyncBaseTransport:
            proxied = httpx.AsyncHTTPTransport(limits=limits, proxy=proxy)
            _netbackend.install(proxied)
            return proxied

        mounts = proxy_mounts(proxy, use_environment=transport is None, transport=through)
        if transport is None:
            transport = httpx.AsyncHTTPTransport(limits=limits)
            if not _netbackend.install(transport, guard=True):
                raise RuntimeError(
                    f"httpx {httpx.__version__} lays out its transport in a way sagemcp does not know, so upstream "
                    "addresses cannot be checked at connect time; install an httpx version sagemcp-core supports"
                )
        self._http = httpx.AsyncClient(
            transport=transport,
            mounts=mounts,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            limits=limits,
            headers={"User-Agent": user_agent},
            cookies=_no_cookies(),
        )

    async def __aenter__(self) -> UpstreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _with_defaults(self, headers: httpx.Headers) -> httpx.Headers:
        """The client's default headers with `headers` over them, merged as `AsyncClient.build_request` merges
        a request's headers (a bound client does it once, not once per request)."""
        merged = httpx.Headers(self._http.headers)
        merged.update(headers)
        return merged

    def _build(
        self,
        method: str,
        url: httpx.URL,
        *,
        headers: httpx.Headers,
        extensions: dict[str, Any],
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | str | None = None,
    ) -> httpx.Request:
        """The request `AsyncClient.build_request` would build, for an absolute `url`, `headers` already over the
        client's defaults (`_with_defaults`) and the timeout in `extensions`: the client has no base URL and no
        query parameters of its own and keeps no cookies (`_no_cookies`), so none of its state is merged in."""
        return httpx.Request(method, url, content=content, data=data, json=json, headers=headers, extensions=extensions)

    def _extensions(self, seconds: float) -> dict[str, Any]:
        """The request extensions giving each attempt `seconds` (connect: at most `connect_timeout`), built once
        per pair of values: `build_request` then neither makes nor copies a `Timeout` per attempt."""
        key = (seconds, min(self.connect_timeout, seconds))
        extensions = self._timeout_extensions.get(key)
        if extensions is None:
            extensions = {"timeout": httpx.Timeout(key[0], connect=key[1]).as_dict()}
            if len(self._timeout_extensions) < 64:  # per-call timeouts are few in practice; never let them pile up
                self._timeout_extensions[key] = extensions
        return extensions

    def bind(
        self,
        *,
        base_url: str,
        provider: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        error_hook: ErrorHook | None = None,
        origins: Sequence[str] = (),
        bound_origins: Sequence[str] | None = None,
    ) -> BoundClient:
        """A client for one call: relative URLs join `base_url`; `headers` and `params` go to its
        origin and to the further `origins` (`https://files.example`), and nowhere else.

        `bound_origins` are the origins the call's credential was stored for
        (`Credential.origins`); a request to any other origin is refused before it is
        sent (`ReconnectRequired`, saying to store the credential again). None: not bound.

        `error_hook` sees every response first, 2xx included (Slack answers 200 with
        `ok: false`): an error it returns, or raises, is raised in place of the status
        mapping, except that an error it raises on an error status (say, `json()` on
        an HTML error page) gives way to the status mapping.
        """
        return BoundClient(
            self,
            base_url=base_url,
            provider=provider,
            headers=headers,
            params=params,
            error_hook=error_hook,
            origins=origins,
            bound_origins=bound_origins,
        )

    async def _call(
        self,
        bound: BoundClient,
        build: Callable[[], httpx.Request],
        *,
        idempotent: bool,
        answer_within: float,
        allow_error_status: Container[int],
    ) -> UpstreamResponse:
        started = self._clock()
        attempt = 0
        while True:
            wait: float | None = None
            try:
                response = await self._attempt(
                    bound.provider, build(), answer_within=answer_within, allow_error_status=allow_error_status
                )
            except UpstreamError as error:
                failure = error
                cause = error.__cause__
                retry = isinstance(cause, _NEVER_SENT) or (idempotent and isinstance(cause, _RETRY_IF_IDEMPOTENT))
            else:
                checked = bound._check(response, allow_error_status)
                if checked is None:
                    return response
                failure = checked
                retry = idempotent and (response.status in RETRY_STATUSES or isinstance(failure, UpstreamRateLimited))
                if isinstance(failure, UpstreamRateLimited) and failure.retry_after is not None:
                    wait = failure.retry_after
                else:
                    wait = _server_wait(response)
            if not retry or attempt >= self.max_retries:
                raise failure
            if wait is None:
                jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreads retries, guards nothing
                wait = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt) * jitter
            if self._clock() - started + wait > self.retry_deadline:
                raise failure
            await (self._sleep or _sleep)(wait)
            attempt += 1

    async def _attempt(
        self, provider: str, request: httpx.Request, *, answer_within: float, allow_error_status: Container[int]
    ) -> UpstreamResponse:
        where = f"{request.method} {request.url.path}"
        status: int | None = None
        started = time.perf_counter()
        try:
            response = await self._http.send(request, stream=True)
            status = response.status_code
            try:
                if 200 <= status < 300 or status in allow_error_status:
                    content = await _read_capped(response, self.max_response_bytes, provider, where)
                else:
                    content = await _read_truncated(response, min(self.max_response_bytes, _ERROR_BODY_LIMIT))
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            status = None
            raise _transport_error(exc, provider, where, answer_within) from exc
        finally:
            self._observe(provider, request.method, status, time.perf_counter() - started)
        return UpstreamResponse(
            status,
            headers=response.headers,
            content=content,
            url=str(request.url),
            method=request.method,
            provider=provider,
            elapsed=time.perf_counter() - started,
        )

    def _observe(self, provider: str, method: str, status: int | None, seconds: float) -> None:
        if self._on_response is None:
            return
        try:
            self._on_response(provider, method, status, seconds)
        except Exception:
            logger.exception("on_response hook failed")


class BoundClient:
    """Requests for one call: base URL, auth headers/params and provider name fixed.

    Where the credential goes: a relative URL joins the base URL; an absolute URL is
    sent, with the call's headers and params, only when its origin (scheme, host and
    port, exactly) is the base URL's or one of `origins`; any other origin is refused
    before anything is sent. `for_origin()` reaches a further host without them. The
    client never follows redirects, so a redirect cannot carry them anywhere either.
    With `bound_origins`, a request is also refused unless its origin is one the
    credential was stored for.
    """

    def __init__(
        self,
        client: UpstreamClient,
        *,
        base_url: str,
        provider: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        error_hook: ErrorHook | None = None,
        origins: Sequence[str] = (),
        bound_origins: Sequence[str] | None = None,
    ) -> None:
        base = httpx.URL(base_url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
        if base.query or base.fragment:
            raise ValueError("base_url must not carry a query or fragment: pass query parameters as params=")
        if not base.raw_path.endswith(b"/"):
            base = base.copy_with(raw_path=base.raw_path + b"/")
        self.provider = provider
        self.base_url = base_url
        self._client = client
        self._base = base
        keys = [_origin_key(base)]
        for origin in origins:
            key = _declared_origin(origin)
            if key not in keys:
                keys.append(key)
        self._origins = tuple(keys)
        self._bound = None if bound_origins is None else frozenset(_bound_key(o) for o in bound_origins)
        self._bound_text = tuple(bound_origins or ())
        self._headers = httpx.Headers(headers)
        self._request_headers = client._with_defaults(self._headers)
        self._params = dict(params or {})
        self._error_hook = error_hook
        self._secrets = _secret_values(self._headers, self._params)

    def __repr__(self) -> str:
        return f"<BoundClient {self.provider} {self._base.scheme}://{self._base.netloc.decode()}>"

    @property
    def origins(self) -> tuple[str, ...]:
        """The origins that receive this client's headers and params: the base URL's first, then the declared ones."""
        return tuple(_origin_text(key) for key in self._origins)

    def sends_credentials_to(self, url: str) -> bool:
        """Whether an absolute `url` is on one of `origins` (so `request(url)` would carry the credential)."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        return bool(target.scheme and target.host) and not target.userinfo and _origin_key(target) in self._origins

    def for_origin(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        error_hook: ErrorHook | None = None,
    ) -> BoundClient:
        """A client for another origin on the same pool, sending only the `headers` given here.

        For upstreams that hand out URLs on a host that must not see the credential
        (pre-signed storage URLs, such as GitHub's job logs): the call's credentials
        are never carried over, not even to a declared origin; the caller decides what,
        if anything, that host may receive. Hosts that should get the credential are
        declared on the connector instead (`Connector.credential_origins`).
        """
        return BoundClient(
            self._client, base_url=base_url, provider=self.provider, headers=headers, error_hook=error_hook
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - an httpx timeout per attempt, not a deadline
        allow_error_status: Container[int] = (),
    ) -> UpstreamResponse:
        """Send one request (retried when safe) and return the answer, or raise an `UpstreamError`.

        `url` is relative to the base URL, or absolute on one of `origins` (pagination
        links, a declared file host); an absolute URL on any other origin is refused with
        `UpstreamBadResponse` and nothing is sent. `params` values that are None are left
        out. Statuses in `allow_error_status` are returned instead of raised.

        `idempotent` overrides the method's default (`IDEMPOTENT_METHODS`) for retries:
        `True` marks a request that only reads, though sent as POST (Jira's `POST
        /search/jql`, Notion's database queries, Google's `batchGet`), so it is retried
        like a GET on 429 / 502 / 503 / 504 and dropped connections; `False` keeps a PUT
        or GET with side effects from ever being repeated.
        """
        method = method.upper()
        # The bound headers over the client's defaults, merged once per bound client; httpx copies them into
        # each request, so they serve as they are unless the call adds its own.
        call_headers = self._request_headers
        if headers:
            call_headers = httpx.Headers(call_headers)
            call_headers.update(headers)
        secrets = (self._secrets + _secret_values(httpx.Headers(headers), {})) if headers else self._secrets
        try:
            target = _with_params(_with_params(self._resolve(url), params), self._params)
            effective_timeout = self._client.timeout if timeout is None else timeout
            extensions = self._client._extensions(effective_timeout)

            def build() -> httpx.Request:
                return self._client._build(
                    method, target, json=json, data=data, content=content, headers=call_headers, extensions=extensions
                )

            return await self._client._call(
                self,
                build,
                idempotent=method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
                answer_within=effective_timeout,
                allow_error_status=allow_error_status,
            )
        except UpstreamError as exc:
            _redact(exc, secrets)
            raise

    async def get(self, url: str, **kwargs: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.request("DELETE", url, **kwargs)

    def _resolve(self, url: str) -> httpx.URL:
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise UpstreamBadResponse(f"invalid URL for {self.provider}: {exc}", provider=self.provider) from None
        if not target.scheme and not target.host:
            return self._check_bound(self._base.copy_with(raw_path=self._base.raw_path + target.raw_path.lstrip(b"/")))
        if not target.scheme:
            target = target.copy_with(scheme=self._base.scheme)
        if target.userinfo:
            # httpx would turn a user name in the URL into Basic auth, replacing the call's own.
            raise UpstreamBadResponse(
                f"refused to send a {self.provider} request to a URL with a user name or password in it; "
                f"use a URL relative to {self.provider}'s base URL.",
                provider=self.provider,
            )
        if _origin_key(target) not in self._origins:
            raise UpstreamBadResponse(
                f"refused to send a {self.provider} request to {_origin_text(_origin_key(target))}: "
                f"this tenant's credentials go only to {', '.join(self.origins)}; "
                f"use a URL relative to {self.provider}'s base URL.",
                provider=self.provider,
            )
        return self._check_bound(target.copy_with(fragment=None) if target.fragment else target)

    def _check_bound(self, target: httpx.URL) -> httpx.URL:
        """`target`, unless the call's credential was stored for other origins than `target`'s."""
        if self._bound is None or _origin_key(target) in self._bound:
            return target
        issued = ", ".join(self._bound_text) or "no host"
        wanted = _origin_text(_origin_key(target))
        raise ReconnectRequired(
            f"the stored {self.provider} credential was issued for {issued}; store it again for {wanted} "
            f"(the connector's host changed since it was stored; a platform admin can also rebind it). "
            "Nothing was sent."
        )

    def _check(self, response: UpstreamResponse, allow_error_status: Container[int]) -> UpstreamError | None:
        expected = 200 <= response.status < 300 or response.status in allow_error_status
        if self._error_hook is not None:
            try:
                error = self._error_hook(response)
            except UpstreamError as exc:
                error = exc if expected else None
            if error is not None:
                if error.provider is None:
                    error.provider = self.provider
                if error.status is None:
                    error.status = response.status
                return error
        return None if expected else map_status_error(response)


_OriginKey = tuple[str, str, int | None]


def _origin_key(url: httpx.URL) -> _OriginKey:
    """Scheme, host and port, compared exactly (httpx lower-cases the host and drops a default port)."""
    return (url.scheme, url.host, url.port)


def _origin_text(key: _OriginKey) -> str:
    scheme, host, port = key
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}" + (f":{port}" if port is not None else "")


def origin_of(url: str) -> str:
    """The origin (`scheme://host[:port]`) of an absolute http(s) URL, spelled as `BoundClient` compares
    origins (lower-case host, no default port); `ValueError` for anything else."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{url!r} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    return _origin_text(_origin_key(parsed))


def _bound_key(origin: str) -> _OriginKey:
    """A stored credential origin as a comparable key; one that does not parse matches nothing."""
    try:
        return _origin_key(httpx.URL(origin))
    except httpx.InvalidURL:
        return ("invalid", origin, None)


def _declared_origin(origin: str) -> _OriginKey:
    """A declared credential origin checked: https (plain http only on loopback), nothing but scheme, host, port."""
    try:
        url = httpx.URL(origin)
    except httpx.InvalidURL as exc:
        raise ValueError(f"credential origin {origin!r} is not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"credential origin {origin!r} must be an absolute URL such as https://files.example.com")
    if url.userinfo or url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError(
            f"credential origin {origin!r} must be scheme://host[:port] only, without user, path, query or fragment"
        )
    if url.scheme == "http" and not _is_loopback_host(url.host):
        raise ValueError(f"credential origin {origin!r} must use https: a credential never travels in the clear")
    return _origin_key(url)


def _is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def map_status_error(response: UpstreamResponse) -> UpstreamError:
    """The `UpstreamError` for an upstream answer that is not a success."""
    status = response.status
    provider = response.provider
    where = f"{response.method} {response.path}"
    detail, upstream_code = _upstream_detail(response)
    said = f": {detail}" if detail else ""
    common: dict[str, Any] = {"status": status, "provider": provider, "upstream_code": upstream_code}

    if 300 <= status < 400:
        host = _redirect_host(response)
        return UpstreamBadResponse(
            f"{provider} answered {where} with {status}: redirected to {host}, not followed; "
            f"the resource may have moved or been renamed: look it up again.",
            **common,
        )
    if status == 401:
        return UpstreamAuthError(
            f"{provider} rejected the credential (401) for {where}{said}; reconnect {provider} for this tenant.",
            **common,
        )
    if status == 429 or (status == 403 and _is_rate_limit(response)):
        retry_after = _server_wait(response)
        when = (
            f"retry after {math.ceil(retry_after)} seconds" if retry_after is not None else "wait a while, then retry"
        )
        return UpstreamRateLimited(
            f"{provider} rate limit reached ({status}) on {where}{said}; {when}.", retry_after=retry_after, **common
        )
    if status == 403:
        missing = _missing_scopes(response.headers)
        if missing:
            advice = (
                f"the credential lacks scope {_scope_list(missing)}: reconnect {provider} for this tenant and grant it."
            )
        else:
            advice = (
                "the credential is valid but not allowed to do this: check the connected account's "
                f"permissions on the resource, or reconnect {provider} with broader access."
            )
        return UpstreamForbidden(f"{provider} refused {where} (403){said}; {advice}", missing_scopes=missing, **common)
    if status == 404:
        missing = _missing_scopes(response.headers)
        hint = f" (the credential may lack scope {_scope_list(missing)})" if missing else ""
        return UpstreamNotFound(
            f"{provider} found nothing at {where} (404){said}; check the identifiers, and that the connected "
            f"account can see the resource{hint}.",
            **common,
        )
    if status in (409, 422):
        return UpstreamConflict(
            f"{provider} rejected {where} ({status}){said}; the request conflicts with the resource's current "
            "state or fails its validation: fix the arguments, or read the resource again and retry.",
            **common,
        )
    if 400 <= status < 500:
        return UpstreamBadRequest(
            f"{provider} rejected {where} as a bad request ({status}){said}; check the arguments.", **common
        )
    if status >= 500:
        return UpstreamServerError(
            f"{provider} failed on {where} ({status}){said}; the problem is on {provider}'s side: try again later.",
            **common,
        )
    return UpstreamBadResponse(f"{provider} answered {where} with unexpected status {status}{said}.", **common)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay seconds or HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        return max(0.0, moment.timestamp() - (time.time() if now is None else now))
    return max(0.0, seconds) if math.isfinite(seconds) else None


def parse_rate_limit(headers: httpx.Headers, *, now: float | None = None) -> RateLimit | None:
    """Rate-limit state from response headers; None when the response has none.

    Reset values that look like unix time (seconds, or milliseconds) are taken as
    such, smaller ones as seconds from `now` (the IETF draft's meaning).
    """
    now = time.time() if now is None else now
    limit = _number(headers.get("x-ratelimit-limit") or headers.get("ratelimit-limit"))
    remaining = _number(headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining"))
    reset = _number(headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset"))
    combined = headers.get("ratelimit")
    if combined:
        fields = {key: float(value) for key, value in _RATELIMIT_FIELD_RE.findall(combined)}
        limit = fields.get("limit", limit) if limit is None else limit
        remaining = fields.get("remaining", fields.get("r")) if remaining is None else remaining
        reset = fields.get("reset", fields.get("t")) if reset is None else reset
    retry_after = parse_retry_after(headers.get("retry-after"), now=now)
    if limit is None and remaining is None and reset is None and retry_after is None:
        return None
    if reset is None:
        reset_at = None
    elif reset >= 1e12:
        reset_at = reset / 1000
    elif reset >= 1e9:
        reset_at = reset
    else:
        reset_at = now + reset
    return RateLimit(
        limit=None if limit is None else int(limit),
        remaining=None if remaining is None else int(remaining),
        reset_at=reset_at,
        retry_after=retry_after,
    )


def parse_link_header(value: str, base_url: str = "") -> dict[str, str]:
    """An RFC 8288 `Link` header as rel -> URL, relative targets resolved against `base_url`."""
    links: dict[str, str] = {}
    base = httpx.URL(base_url) if base_url else None
    for match in _LINK_RE.finditer(value):
        target = match.group(1).strip()
        for name, quoted, bare in _LINK_PARAM_RE.findall(match.group(2)):
            if name.lower() != "rel":
                continue
            try:
                resolved = str(base.join(target)) if base is not None else target
            except httpx.InvalidURL:
                break
            for rel in (quoted or bare).lower().split():
                links.setdefault(rel, resolved)
            break
    return links


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a string" if isinstance(value, str) else "a number"


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _path_of(url: str) -> str:
    try:
        return httpx.URL(url).path or "/"
    except httpx.InvalidURL:
        return "/"


def _redirect_host(response: UpstreamResponse) -> str:
    location = response.headers.get("location")
    if not location:
        return "an unspecified location"
    try:
        return httpx.URL(response.url).join(location).host or "an unspecified location"
    except httpx.InvalidURL:
        return "an invalid location"


def _server_wait(response: UpstreamResponse) -> float | None:
    """How long the upstream asked us to wait before retrying, if it said."""
    limits = response.rate_limit
    if limits is None:
        return None
    if limits.retry_after is not None:
        return limits.retry_after
    if limits.remaining == 0 and limits.reset_at is not None:
        return max(0.0, limits.reset_at - time.time())
    return None


def _is_rate_limit(response: UpstreamResponse) -> bool:
    limits = response.rate_limit
    return limits is not None and (limits.remaining == 0 or limits.retry_after is not None)


def _split_scopes(value: str) -> list[str]:
    return [scope for scope in re.split(r"[\s,]+", value) if scope]


def _missing_scopes(headers: httpx.Headers) -> list[str]:
    granted = _split_scopes(headers.get("x-oauth-scopes", ""))
    if "x-accepted-oauth-scopes" in headers and "x-oauth-scopes" in headers:
        accepted = _split_scopes(headers["x-accepted-oauth-scopes"])
        if accepted and not set(accepted) & set(granted):
            return accepted
    challenge = headers.get("www-authenticate", "")
    if "insufficient_scope" in challenge:
        match = _SCOPE_CHALLENGE_RE.search(challenge)
        if match:
            return [scope for scope in match.group(1).split() if scope not in granted]
    return []


def _scope_list(scopes: list[str]) -> str:
    quoted = [f"`{scope}`" for scope in scopes]
    return quoted[0] if len(quoted) == 1 else "one of " + ", ".join(quoted)


def _upstream_detail(response: UpstreamResponse) -> tuple[str | None, str | None]:
    """The upstream's own error message and code from the body, if it has them."""
    content_type = response.headers.get("content-type", "").lower()
    stripped = response.content.lstrip()
    if not stripped:
        return None, None
    if "json" in content_type or stripped[:1] in (b"{", b"["):
        try:
            body = jsonlib.loads(response.content)
        except ValueError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        messages, code = _messages_from(body)
        unique = list(dict.fromkeys(" ".join(message.split()) for message in messages if message.strip()))
        return (_truncate("; ".join(unique)) if unique else None), code
    if content_type.startswith("text/plain"):
        text = " ".join(response.text.split())
        return (_truncate(text) if text else None), None
    return None, None


def _messages_from(body: dict[str, Any]) -> tuple[list[str], str | None]:
    messages: list[str] = []
    code: str | None = None
    error = body.get("error")
    if isinstance(error, dict):
        if isinstance(error.get("message"), str):
            messages.append(error["message"])
        error_code = error.get("status") or error.get("code")
        code = str(error_code) if error_code is not None else None
    if isinstance(body.get("message"), str):
        messages.append(body["message"])
    description = body.get("error_description")
    if isinstance(error, str):
        code = error
        messages.append(f"{error}: {description}" if isinstance(description, str) and description else error)
    elif isinstance(description, str):
        messages.append(description)
    error_messages = body.get("errorMessages")
    if isinstance(error_messages, list):
        messages.extend(item for item in error_messages if isinstance(item, str))
    errors = body.get("errors")
    if isinstance(errors, dict):
        messages.extend(f"{field}: {text}" for field, text in errors.items() if isinstance(text, str))
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, str):
                messages.append(item)
            elif isinstance(item, dict):
                if isinstance(item.get("message"), str):
                    messages.append(item["message"])
                else:
                    parts = [str(item[key]) for key in ("resource", "field", "code") if key in item]
                    if parts:
                        messages.append(" ".join(parts))
    if code is None and isinstance(body.get("code"), str | int):
        code = str(body["code"])
    return messages, code


def _truncate(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _with_params(url: httpx.URL, params: Mapping[str, Any] | None) -> httpx.URL:
    """`url` with `params` set, replacing same-named ones; the rest of the query is kept byte for byte."""
    if not params:
        return url
    added = httpx.QueryParams({key: value for key, value in params.items() if value is not None})
    if not added:
        return url
    kept = [
        part
        for part in url.query.decode("ascii").split("&")
        if part and unquote_plus(part.split("=", 1)[0]) not in added
    ]
    return url.copy_with(query="&".join([*kept, str(added)]).encode("ascii"))


async def _read_capped(response: httpx.Response, limit: int, provider: str, where: str) -> bytes:
    declared = _number(response.headers.get("content-length"))
    chunks: list[bytes] = []
    size = 0
    too_large = declared is not None and declared > limit
    if not too_large:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                too_large = True
                break
            chunks.append(chunk)
    if not too_large:
        return b"".join(chunks)
    raise UpstreamBadResponse(
        f"{provider} answered {where} with a response larger than {limit} bytes; "
        "ask for less data (a smaller page or a narrower query).",
        status=response.status_code,
        provider=provider,
    )


async def _read_truncated(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk[: limit - size])
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)


def _transport_error(exc: httpx.HTTPError, provider: str, where: str, timeout: float) -> UpstreamError:
    if isinstance(exc, httpx.PoolTimeout):
        return UpstreamTimeout(
            f"no connection to {provider} became free for {where} within {timeout:g} seconds; "
            "the server is busy: try again shortly.",
            provider=provider,
        )
    if isinstance(exc, httpx.DecodingError):
        reason = _truncate(str(exc) or "no details", 200)
        return UpstreamBadResponse(
            f"{provider} answered {where} with a body that could not be decoded ({reason}); try again later.",
            provider=provider,
        )
    if isinstance(exc, httpx.ProxyError):
        reason = _truncate(str(exc) or "no details", 200)
        return UpstreamUnavailable(
            f"the outbound proxy did not connect to {provider} for {where} ({reason}); check the proxy "
            "setting (SAGEMCP_UPSTREAM_PROXY, or HTTPS_PROXY / HTTP_PROXY) and NO_PROXY, then try again.",
            provider=provider,
        )
    # One text for every other failure (refused, reset, unknown host, no answer in time, an address that may
    # not be reached): what differs would tell a caller which ports of a host are open. The log keeps it.
    logger.info(
        "no answer from %s for %s: %s: %s", provider, where, type(exc).__name__, _truncate(str(exc) or "-", 200)
    )
    return UpstreamUnavailable(
        f"could not reach {provider} for {where}: no connection, or no answer within {timeout:g} seconds. "
        f"Check the connector's base URL and {provider}'s status, then try again (or ask for less data); "
        f"a host on a private network must be allowed by the operator ({ALLOW_ENV}).",
        provider=provider,
    )


def _secret_values(headers: httpx.Headers, params: Mapping[str, Any]) -> tuple[str, ...]:
    values: set[str] = set()
    for name, value in headers.items():
        if name.lower() in _PUBLIC_HEADERS or name.lower().endswith("-version"):
            continue
        values.add(value)
        values.update(value.split())
    values.update(value for value in params.values() if isinstance(value, str))
    return tuple(sorted((value for value in values if len(value) >= _MIN_SECRET_LENGTH), key=len, reverse=True))


def _redact(error: UpstreamError, secrets: tuple[str, ...]) -> None:
    message = error.message
    for secret in secrets:
        message = message.replace(secret, "[redacted]")
    if message != error.message:
        error.message = message
        error.args = (message,)


def _no_cookies() -> CookieJar:
    """A cookie jar that stores nothing: the client is shared by every tenant and credential, so a
    `Set-Cookie` from one tenant's upstream must never ride on another's request to the same host."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))  # a jar, not `httpx.Cookies`: that copies it
