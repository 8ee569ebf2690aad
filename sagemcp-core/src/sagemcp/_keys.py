"""API keys: generation, hashing and comparison.

A key is `<prefix>_<43 URL-safe characters>` (256 bits from `secrets`). Stores keep
only its SHA-256: with that much entropy a slow password hash adds nothing, and an
unsalted digest lets a store find a key with one indexed lookup instead of
checking every row. The first 12 characters are kept in clear so people can tell
their keys apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["DISPLAY_PREFIX_LENGTH", "api_key_matches", "generate_api_key", "hash_api_key"]

DISPLAY_PREFIX_LENGTH = 12
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,15}$")


def generate_api_key(prefix: str = "smcp") -> tuple[str, str, str]:
    """A new key as `(raw key, SHA-256 hex of it, display prefix)`; show the raw key once, store the rest."""
    if not _PREFIX_RE.match(prefix):
        raise ValueError("an API key prefix is 1-16 lowercase letters or digits, starting with a letter")
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    return raw, hash_api_key(raw), raw[:DISPLAY_PREFIX_LENGTH]


def hash_api_key(raw_key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def api_key_matches(raw_key: str, key_hash: str) -> bool:
    """Whether `raw_key` hashes to `key_hash`, compared in constant time."""
    return hmac.compare_digest(hash_api_key(raw_key), key_hash)
