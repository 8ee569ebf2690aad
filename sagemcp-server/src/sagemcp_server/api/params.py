"""The path parameters of the API, with the patterns that are checked before any handler runs."""

from __future__ import annotations

from sagemcp.platform import SLUG_PATTERN

from .routing import PathParam
from .schemas import CREDENTIAL_KEY_PATTERN, PROVIDER_PATTERN

SLUG = PathParam(SLUG_PATTERN, 63, "a tenant slug is 1-63 lowercase letters, digits or hyphens", "acme")
CONNECTOR = PathParam(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    63,
    "a connector id or name (lowercase letters, digits, hyphens)",
    "github",
)
PROVIDER = PathParam(PROVIDER_PATTERN, 64, "a provider id is lowercase letters, digits, '_' or '-'", "github")
CREDENTIAL_KEY = PathParam(
    CREDENTIAL_KEY_PATTERN,
    64,
    "a provider id (lowercase letters, digits, '_' or '-'), optionally with ':' and a linked token name",
    "slack:user",
)
KEY_ID = PathParam(r"^[0-9a-f]{32}$", 32, "an API key id is 32 hexadecimal characters", "0" * 32)
USER_ID = PathParam(r"^[0-9a-f]{32}$", 32, "a user id is 32 hexadecimal characters", "0" * 32)
INVITATION_ID = PathParam(r"^[0-9a-f]{32}$", 32, "an invitation id is 32 hexadecimal characters", "0" * 32)
OIDC_PROVIDER = PathParam(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    63,
    "a sign-in provider name is 1-63 lowercase letters, digits or hyphens",
    "okta",
)
