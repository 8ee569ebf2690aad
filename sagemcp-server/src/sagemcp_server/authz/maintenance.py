"""Periodic deletion of expired authorization codes and tokens, in bounded batches."""

from __future__ import annotations

import logging

import anyio

from sagemcp.errors import StoreError

from .store import AuthorizationStore

__all__ = ["purge_periodically"]

logger = logging.getLogger("sagemcp_server.authz")

_BATCH = 1000
_BATCHES_PER_ROUND = 20


async def purge_periodically(store: AuthorizationStore, interval: float) -> None:
    """Every `interval` seconds delete expired codes and tokens: at most 20 batches of 1,000 rows a round, so
    a backlog is worked off over several rounds instead of in one long transaction. Runs until cancelled."""
    while True:
        await anyio.sleep(interval)
        try:
            for _ in range(_BATCHES_PER_ROUND):
                if await store.purge_expired(batch=_BATCH) < _BATCH:
                    break
        except StoreError as exc:
            logger.warning("expired OAuth codes and tokens not purged this round: %s", exc.code)
