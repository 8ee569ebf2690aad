"""Password hashing for built-in accounts: argon2id (argon2-cffi), off the event loop, bounded in parallel.

Hashes carry their own parameters, so raising `SAGEMCP_PASSWORD_TIME_COST` or
`SAGEMCP_PASSWORD_MEMORY_KIB` takes effect for each account at its next successful
sign-in (`needs_rehash`). Each hash uses the configured memory (64 MiB by default), so
at most `concurrency` hashes run at once: a burst of sign-in attempts queues instead of
exhausting memory.
"""

from __future__ import annotations

import anyio
import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "PasswordPolicyError", "Passwords", "check_policy"]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Longer passwords are refused: each is hashed, and no one types more."""


class PasswordPolicyError(ValueError):
    """A new password that does not meet the rules; the message says which."""


def check_policy(password: str) -> None:
    """Raise `PasswordPolicyError` unless `password` may be set as a new password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password may be at most {MAX_PASSWORD_LENGTH} characters long")
    if not password.strip():
        raise PasswordPolicyError("the password may not be only spaces")
    if "\x00" in password:
        raise PasswordPolicyError("the password may not contain NUL characters")


class Passwords:
    """Hash and verify passwords with argon2id on worker threads."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4, concurrency: int = 4):
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; with no hash, the same work is done against a dummy one and False returned,
        so that an unknown account costs as much time as a known one."""
        target = password_hash
        if target is None or len(password) > MAX_PASSWORD_LENGTH:
            # No password this long was ever set: the same work against the dummy, then no.
            target, password_hash = await self._dummy_hash(), None
            password = password[:MAX_PASSWORD_LENGTH]
        try:
            matched = await anyio.to_thread.run_sync(self._verify, target, password, limiter=self._limiter)
        except InvalidHashError:
            return False
        return matched and password_hash is not None

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether a hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self.hash("a password no account has: " + "x" * MIN_PASSWORD_LENGTH)
        return self._dummy
