"""Checking an e-mail and password: argon2id, lockout after repeated failures, the same answer for every failure.

Every failure gets one message (`FAILED`): a wrong password, an unknown e-mail, an account
without a password, a deactivated or a locked one. A password is hashed or verified for
every attempt, known e-mail or not, so the time taken does not tell them apart either.
After `SAGEMCP_SIGNIN_MAX_FAILURES` wrong passwords in a row the account is locked for
`SAGEMCP_SIGNIN_LOCKOUT_SECONDS`; while locked, even the right password is refused. A
successful sign-in clears the count and upgrades a hash made with older parameters.
"""

from __future__ import annotations

import logging
import time

from ..db.people import User
from ..services import Services

__all__ = ["FAILED", "check_password"]

logger = logging.getLogger("sagemcp_server.signin")

FAILED = (
    "The e-mail or password is wrong, or the account is locked after too many failed attempts. "
    "Check them and try again later."
)


async def check_password(services: Services, email: str, password: str) -> User | None:
    """The user these credentials sign in, or None (see the module docstring)."""
    people = services.people
    found = await people.password_state(email)
    if found is None:
        await services.passwords.verify(None, password)
        logger.info("sign-in refused", extra={"reason": "unknown_email"})
        return None
    user, password_hash, _ = found
    locked = user.locked(time.time())
    matched = await services.passwords.verify(password_hash, password)
    if not user.active or password_hash is None:
        logger.info("sign-in refused", extra={"user_id": user.id, "reason": "inactive_or_no_password"})
        return None
    if locked:
        logger.info("sign-in refused", extra={"user_id": user.id, "reason": "locked"})
        return None
    if not matched:
        now_locked = await people.record_failed_signin(
            user.id,
            max_failures=services.settings.signin_max_failures,
            lockout=services.settings.signin_lockout_seconds,
        )
        logger.info(
            "sign-in refused", extra={"user_id": user.id, "reason": "locked_now" if now_locked else "wrong_password"}
        )
        return None
    if services.passwords.needs_rehash(password_hash):
        await people.rehash_password(user.id, password_hash, await services.passwords.hash(password))
    return user
