"""The opaque secrets the authorization server hands out, and how they are kept.

Access tokens are `smcpat_` + 256 random bits, refresh tokens `smcprt_` + 256 random bits,
authorization codes `smcpac_` + 256 random bits, client secrets of registered clients
`smcpcs_` + 256 random bits. The database keeps only their SHA-256: with that much entropy
a slow hash adds nothing, and an unsalted digest is found with one indexed lookup. The
prefixes let the MCP endpoints tell an access token from an API key (`smcp_...`) without
looking either up, and let secret scanners recognise a leaked token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "ACCESS_PREFIX",
    "CLIENT_SECRET_PREFIX",
    "CODE_PREFIX",
    "REFRESH_PREFIX",
    "digest",
    "family_of_code",
    "is_access_token",
    "matches",
    "new_secret",
    "shaped",
]

ACCESS_PREFIX = "smcpat_"
REFRESH_PREFIX = "smcprt_"
CODE_PREFIX = "smcpac_"
CLIENT_SECRET_PREFIX = "smcpcs_"
_MAX_CHARS = 128
"""Longer values are none of ours: refused before hashing."""


def new_secret(prefix: str) -> str:
    """A new random token with `prefix` (256 bits from `secrets`)."""
    return prefix + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """The SHA-256 hex digest a token, code or client secret is stored and looked up under."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def matches(value: str, stored_digest: str) -> bool:
    """Whether `value` hashes to `stored_digest`, compared in constant time."""
    return hmac.compare_digest(digest(value), stored_digest)


def is_access_token(value: str) -> bool:
    """Whether `value` has the shape of an access token of this server (not whether it is valid)."""
    return value.startswith(ACCESS_PREFIX) and len(value) <= _MAX_CHARS


def shaped(value: str, prefix: str) -> bool:
    """Whether `value` has the prefix and a plausible length of one of this server's secrets."""
    return value.startswith(prefix) and len(value) <= _MAX_CHARS


def family_of_code(code_digest: str) -> str:
    """The token family of the tokens issued for an authorization code: derived from the code, so that a
    second use of the code finds (and revokes) them without any link stored on the code's row."""
    return hashlib.sha256(b"sagemcp-token-family\x00" + code_digest.encode("ascii")).hexdigest()[:32]
