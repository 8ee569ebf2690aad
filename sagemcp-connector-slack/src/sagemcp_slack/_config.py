"""The Slack connector's per-tenant configuration: the API URL and the write allow-list.

The API URL decides where the tenant's token is sent, so it is checked strictly by
core's `sagemcp._urls.validate_api_url` (https, no credentials, no private addresses;
plain http only for loopback, for development and tests against a local fake Slack).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from sagemcp import ConnectorSettings
from sagemcp import validate_api_url as _validate

__all__ = ["ALLOW_ENTRY_PATTERN", "DEFAULT_API_URL", "SlackConfig", "validate_api_url"]

DEFAULT_API_URL = "https://slack.com/api"

ALLOW_ENTRY_PATTERN = r"^(#[^\s#,<>|@]{1,80}|@[^\s#,<>|@]{1,80}|[CGDUW][A-Z0-9]{2,30})$"
"""A channel id (`C…`, `G…`, `D…`), a `#name`, or for direct messages a user id (`U…`, `W…`) or `@handle`."""
_ALLOW_ENTRY_RE = re.compile(ALLOW_ENTRY_PATTERN)


def validate_api_url(value: str) -> str:
    """`value` normalised (no trailing slash), or `ValueError` saying what is wrong with it."""
    return _validate(value, example=DEFAULT_API_URL)


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
