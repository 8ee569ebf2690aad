"""The Slack connector's per-tenant configuration: the API URL and the write allow-list.

The API URL decides where the tenant's token is sent, so it is checked strictly:
https only, no user name, password, query or fragment, no IP address in private,
link-local, multicast or reserved ranges. Plain http is accepted only for loopback
(`localhost`, `127.0.0.0/8`, `::1`), for development and tests against a local fake Slack.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from sagemcp.connector import ConnectorSettings

__all__ = ["ALLOW_ENTRY_PATTERN", "DEFAULT_API_URL", "SlackConfig", "validate_api_url"]

DEFAULT_API_URL = "https://slack.com/api"

ALLOW_ENTRY_PATTERN = r"^(#[^\s#,<>|@]{1,80}|@[^\s#,<>|@]{1,80}|[CGDUW][A-Z0-9]{2,30})$"
"""A channel id (`C…`, `G…`, `D…`), a `#name`, or for direct messages a user id (`U…`, `W…`) or `@handle`."""
_ALLOW_ENTRY_RE = re.compile(ALLOW_ENTRY_PATTERN)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_url(value: str) -> str:
    """`value` normalised (no trailing slash), or `ValueError` saying what is wrong with it."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"api_url {text!r} is not a valid URL ({exc})") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"api_url must be an absolute https URL such as {DEFAULT_API_URL}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("api_url must not contain a user name or password: the token is stored as a credential")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("api_url must not have a query string or fragment")
    loopback = _is_loopback(host)
    if parts.scheme == "http" and not loopback:
        raise ValueError("api_url must use https (plain http is accepted only for localhost, for development)")
    if not loopback:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and (
            address.is_private
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            raise ValueError(f"api_url points at the non-public address {host}")
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        raise ValueError("api_url must not contain '.' or '..' path segments")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


class SlackConfig(ConnectorSettings):
    """Per-tenant settings of a Slack connector."""

    api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Slack Web API base URL. Change it only for a proxy or a local fake Slack in development.",
    )
    allowed_channels: list[Annotated[str, Field(pattern=ALLOW_ENTRY_PATTERN)]] = Field(
        default_factory=list,
        max_length=500,
        description=(
            "Channels write tools may change: channel ids (C0123ABCD) or #names; for direct messages, user ids "
            "or @handles. Empty: every channel the token can write to. Read tools are not restricted."
        ),
    )

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return validate_api_url(value)

    @field_validator("allowed_channels")
    @classmethod
    def _allowed(cls, values: list[str]) -> list[str]:
        # Slack channel names and handles are lower case; ids are upper case.
        normalised = [v.lower() if v[0] in "#@" else v for v in (value.strip() for value in values)]
        for value in normalised:
            if not _ALLOW_ENTRY_RE.match(value):
                raise ValueError(f"allowed_channels entry {value!r} is not a channel id, #name, user id or @handle")
        return list(dict.fromkeys(normalised))
