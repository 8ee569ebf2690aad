"""Client ID Metadata Documents: a client whose `client_id` is an `https://` URL publishes its metadata there.

`MetadataDocuments.fetch(url)` gets and checks the document. It goes through an
`UpstreamClient` of its own, so the same address policy as tool calls applies at connect
time (public addresses only; private networks and loopback only as the operator allows
with `SAGEMCP_UPSTREAM_ALLOW` / `SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS`), with a size cap
(64 KiB by default), a timeout, no redirects and no retries.

A document is accepted only if it is a JSON object whose `client_id` is exactly the URL
it was fetched from, with valid RFC 7591 metadata and redirect URIs (`authz.clients`),
and without a client secret: such a client is public (`token_endpoint_auth_method` `none`).
A URL that just failed is not fetched again for a minute, and only a few fetches run at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
from mcp.shared.auth import OAuthClientMetadata
from pydantic import ValidationError

from sagemcp.errors import UpstreamBadResponse, UpstreamError, UpstreamNotFound
from sagemcp.platform import UpstreamClient

from .clients import registration_problem

__all__ = ["DocumentRefused", "MetadataDocuments", "is_metadata_document_url"]

logger = logging.getLogger("sagemcp_server.authz")

_MAX_URL_CHARS = 512
_FAILURE_MEMORY = 60.0
_MAX_REMEMBERED_FAILURES = 1024
_CONCURRENT_FETCHES = 8


class DocumentRefused(Exception):
    """The client's metadata document cannot be used; `message` says why (safe to show the client)."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable
        """True when the document could not be fetched (a cached copy may stand in); False when it is invalid."""


def is_metadata_document_url(client_id: str) -> bool:
    """Whether a client id names a metadata document: an `https://` URL with a path (draft-ietf-oauth-client-id-
    metadata-document §3), no user name, fragment, or `.`/`..` segments, at most 512 characters."""
    if len(client_id) > _MAX_URL_CHARS or not client_id.startswith("https://"):
        return False
    if any(ord(c) < 0x21 or c in "\\\x7f#" for c in client_id):
        return False
    try:
        parts = urlsplit(client_id)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return False
    if parts.path in ("", "/"):
        return False
    return all(unquote(segment) not in (".", "..") for segment in parts.path.split("/"))


class MetadataDocuments:
    """Fetches and checks Client ID Metadata Documents (see the module docstring)."""

    def __init__(
        self,
        *,
        valid_scopes: list[str],
        max_bytes: int = 64 * 1024,
        timeout: float = 5.0,
        proxy: str | None = None,
        upstream: UpstreamClient | None = None,
    ) -> None:
        self.valid_scopes = valid_scopes
        self.max_bytes = max_bytes
        self._http = upstream or UpstreamClient(
            timeout=timeout,
            connect_timeout=timeout,
            max_retries=0,
            retry_deadline=timeout,
            max_response_bytes=max_bytes,
            user_agent="sagemcp (OAuth client metadata)",
            max_connections=_CONCURRENT_FETCHES,
            proxy=proxy,
        )
        self._owns_http = upstream is None
        self._limiter = anyio.CapacityLimiter(_CONCURRENT_FETCHES)
        self._failures: OrderedDict[str, tuple[float, DocumentRefused]] = OrderedDict()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def fetch(self, url: str) -> dict[str, Any]:
        """The checked metadata of the client `url` names (RFC 7591 fields, `client_id` = `url`), or
        `DocumentRefused`."""
        if not is_metadata_document_url(url):
            raise DocumentRefused("the client_id is not a valid metadata document URL")
        failed = self._failures.get(url)
        if failed is not None and time.monotonic() - failed[0] < _FAILURE_MEMORY:
            raise failed[1]
        try:
            async with self._limiter:
                document = await self._get(url)
            metadata = self._check(url, document)
        except DocumentRefused as refused:
            self._failures[url] = (time.monotonic(), refused)
            self._failures.move_to_end(url)
            while len(self._failures) > _MAX_REMEMBERED_FAILURES:
                self._failures.popitem(last=False)
            raise
        self._failures.pop(url, None)
        return metadata

    async def _get(self, url: str) -> Any:
        parts = urlsplit(url)
        client = self._http.bind(base_url=f"{parts.scheme}://{parts.netloc}/", provider="client metadata document")
        try:
            response = await client.get(url, headers={"Accept": "application/json"})
        except UpstreamNotFound:
            raise DocumentRefused(f"the client metadata document {url} does not exist (HTTP 404)") from None
        except UpstreamError as exc:
            logger.info("client metadata document %s not fetched: %s", url, type(exc).__name__)
            if isinstance(exc, UpstreamBadResponse) and exc.status is not None and 200 <= exc.status < 300:
                raise DocumentRefused(
                    f"the client metadata document {url} is larger than {self.max_bytes} bytes"
                ) from None
            if exc.status is not None and 300 <= exc.status < 500:
                raise DocumentRefused(
                    f"the client metadata document {url} answered HTTP {exc.status} (redirects are not followed)"
                ) from None
            raise DocumentRefused(
                f"the client metadata document {url} could not be fetched; try again later", unreachable=True
            ) from None
        if response.status != 200:
            raise DocumentRefused(f"the client metadata document {url} answered HTTP {response.status}")
        try:
            return json.loads(response.content)
        except ValueError:
            raise DocumentRefused(f"the client metadata document {url} is not JSON") from None

    def _check(self, url: str, document: Any) -> dict[str, Any]:
        if not isinstance(document, dict):
            raise DocumentRefused("the client metadata document is not a JSON object")
        if document.get("client_id") != url:
            raise DocumentRefused(
                "the client metadata document's client_id is not the URL it was fetched from; they must be equal"
            )
        if "client_secret" in document or "client_secret_expires_at" in document:
            raise DocumentRefused("a client metadata document must not contain a client secret")
        method = document.get("token_endpoint_auth_method", "none")
        if method != "none":
            raise DocumentRefused(
                "a client known by its metadata document is public here: token_endpoint_auth_method must be 'none'"
            )
        fields = {k: v for k, v in document.items() if k in OAuthClientMetadata.model_fields and k != "scope"}
        try:
            metadata = OAuthClientMetadata.model_validate({**fields, "token_endpoint_auth_method": "none"})
        except ValidationError as exc:
            names = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors(include_input=False)})
            raise DocumentRefused(f"the client metadata document has invalid fields: {', '.join(names)}") from None
        problem = registration_problem(metadata)
        if problem is not None:
            raise DocumentRefused(f"the client metadata document is not acceptable: {problem[1]}")
        checked = metadata.model_dump(mode="json", exclude_none=True)
        checked["client_id"] = url
        checked["scope"] = " ".join(self.valid_scopes)
        return checked
