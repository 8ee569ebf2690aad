"""Whether this server can serve: the database answers and its schema is one this code serves.

Shared by `/readyz` and the console's dashboard, so both say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .db.migrate import current_revision, head_revision, schema_serves
from .services import Services

__all__ = ["Readiness", "readiness"]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    revision: str | None
    reason: str | None = None
    """Why the server is not ready (None when it is)."""


async def readiness(services: Services) -> Readiness:
    """Ping the database and compare its schema revision with the one this code needs."""
    try:
        await services.store.ping()
        revision = await current_revision(services.engine)
    except Exception as exc:
        return Readiness(False, None, f"database unreachable ({type(exc).__name__})")
    if not schema_serves(revision):
        return Readiness(
            False, revision, f"schema at {revision or 'nothing'}, needs {head_revision()}; run `sagemcp db upgrade`"
        )
    return Readiness(True, revision)
