"""`SecretBox`: authenticated encryption of secrets at rest, with a key ring.

A token looks like `v1.<kid>.<nonce + ciphertext, URL-safe base64>`. The cipher is
AES-256-GCM with a random 96-bit nonce; `kid` is the first 8 hex characters of the
SHA-256 of the key, so decryption picks the key without trying each one. The
`context` (e.g. `"credential:<id>:access_token"`) is bound as associated data: a
ciphertext copied to another row or column does not decrypt.

The first key of the ring encrypts, every key decrypts. To rotate, put a new key
first, re-encrypt stored values with `rotate()` (a no-op for values already under
the first key), then drop the old key.

A box given a `source` picks up a changed ring while it runs: it asks the source at
most once per `check_interval` seconds before encrypting, and at once when it meets a
key id it does not know, so running processes follow a rotation made elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import threading
import time
from collections.abc import Callable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import CryptoError

__all__ = ["KeySource", "SecretBox"]

KeySource = Callable[[], Sequence[str] | None]
"""Returns the current key ring when it changed since the last call, else None."""

_VERSION = "v1"
_NONCE_BYTES = 12
_KEY_BYTES = 32


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class SecretBox:
    """Encrypts and decrypts secrets with a ring of AES-256 keys; the first key encrypts."""

    __slots__ = ("_checked_at", "_interval", "_lock", "_ring_state", "_source", "_urgent_at")

    def __init__(self, keys: Sequence[str], *, source: KeySource | None = None, check_interval: float = 1.0) -> None:
        self._ring_state: tuple[dict[str, AESGCM], str] = self._ring(keys)
        """(ciphers by key id, encrypting key id), replaced as one so readers never see half a new ring."""
        self._source = source
        self._interval = check_interval
        self._checked_at = time.monotonic()
        self._urgent_at = -math.inf
        self._lock = threading.Lock()

    @classmethod
    def _ring(cls, keys: Sequence[str]) -> tuple[dict[str, AESGCM], str]:
        if isinstance(keys, str):
            raise TypeError("SecretBox takes a sequence of keys; for a comma-separated string use from_env_value()")
        if not keys:
            raise ValueError(
                "the secret key ring is empty: set at least one key (create one with SecretBox.generate_key())"
            )
        ciphers: dict[str, AESGCM] = {}
        for position, encoded in enumerate(keys, start=1):
            key = cls._parse_key(encoded, position)
            kid = _key_id(key)
            if kid in ciphers:
                raise ValueError(f"key {position} of the secret key ring repeats key {kid}; remove the duplicate")
            ciphers[kid] = AESGCM(key)
        return ciphers, next(iter(ciphers))

    def replace_keys(self, keys: Sequence[str]) -> None:
        """Use a new key ring from now on (the first key encrypts); `ValueError` leaves the current one."""
        self._ring_state = self._ring(keys)

    def _refresh(self, *, urgent: bool = False) -> None:
        """Ask the source for a changed ring when due, or at once for an unknown key id (at most ten times a
        second, so unreadable tokens cannot turn into a stream of file reads)."""
        if self._source is None:
            return
        now = time.monotonic()
        last, gap = (self._urgent_at, 0.1) if urgent else (self._checked_at, self._interval)
        if now - last < gap:
            return
        with self._lock:
            self._checked_at = now
            if urgent:
                self._urgent_at = now
            keys = self._source()
            if keys:
                self.replace_keys(keys)

    @staticmethod
    def _parse_key(encoded: str, position: int) -> bytes:
        problem = (
            f"key {position} of the secret key ring is not {_KEY_BYTES} bytes of URL-safe base64; "
            "create keys with SecretBox.generate_key()"
        )
        try:
            key = _b64decode(encoded.strip())
        except (binascii.Error, ValueError):
            raise ValueError(problem) from None
        if len(key) != _KEY_BYTES:
            raise ValueError(problem)
        return key

    @staticmethod
    def generate_key() -> str:
        """A new random 256-bit key as URL-safe base64."""
        return base64.urlsafe_b64encode(os.urandom(_KEY_BYTES)).decode("ascii")

    @classmethod
    def from_env_value(cls, value: str) -> SecretBox:
        """A box from a comma-separated key list such as an environment variable (`"new,old"`)."""
        return cls([part.strip() for part in value.split(",") if part.strip()])

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the keys in the ring, the encrypting key first."""
        return tuple(self._ring_state[0])

    def __repr__(self) -> str:
        return f"SecretBox(key_ids={list(self._ring_state[0])!r})"

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """Encrypt `plaintext` under the first key, bound to `context`."""
        self._refresh()
        ciphers, primary = self._ring_state
        nonce = os.urandom(_NONCE_BYTES)
        sealed = ciphers[primary].encrypt(nonce, plaintext.encode("utf-8"), self._aad(primary, context))
        return f"{_VERSION}.{primary}.{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str = "") -> str:
        """Decrypt a token made by `encrypt` with the same `context`; `CryptoError` if that fails."""
        kid, blob = self._split(token)
        cipher = self._ring_state[0].get(kid)
        if cipher is None:
            self._refresh(urgent=True)
            cipher = self._ring_state[0].get(kid)
        if cipher is None:
            raise CryptoError(
                f"the secret was encrypted with key {kid}, which is not in the key ring; "
                "add that key back to the ring (after the current key) to read it"
            )
        try:
            plaintext = cipher.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], self._aad(kid, context))
        except InvalidTag:
            raise CryptoError(
                f"the secret under key {kid} failed authentication: it was altered, or it belongs to another "
                "record or field than the one it was read for"
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("the decrypted secret is not UTF-8 text") from None

    def needs_rotation(self, token: str) -> bool:
        """Whether `token` is encrypted under a key other than the first."""
        kid, _ = self._split(token)
        return kid != self._ring_state[1]

    def rotate(self, token: str, *, context: str = "") -> str:
        """Re-encrypt `token` under the first key; tokens already under it are returned unchanged."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, context=context), context=context)

    @staticmethod
    def _aad(kid: str, context: str) -> bytes:
        return f"{_VERSION}.{kid}.".encode("ascii") + context.encode("utf-8")

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        parts = token.split(".") if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != _VERSION or len(parts[1]) != 8:
            raise CryptoError(f"the value is not a {_VERSION} SecretBox token (expected '{_VERSION}.<kid>.<data>')")
        try:
            blob = _b64decode(parts[2])
        except (binascii.Error, ValueError):
            raise CryptoError("the SecretBox token's data is not valid base64") from None
        if len(blob) < _NONCE_BYTES + 16:
            raise CryptoError("the SecretBox token is truncated")
        return parts[1], blob
