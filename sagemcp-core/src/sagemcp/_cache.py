"""A small TTL + LRU cache for per-process lookups (tenants, connectors, credentials, keys).

Replicas share nothing but the store, so every entry expires after `ttl` seconds;
writers in the same process call `invalidate` to make a change visible at once. An
expired entry is kept (until evicted) so that `get_or_load` can ask a cheap
`revalidate` check whether it still holds before loading it again in full.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

__all__ = ["TTLCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Load(Generic[V]):
    done: anyio.Event = field(default_factory=anyio.Event)
    value: V | None = None
    error: Exception | None = None
    finished: bool = False


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, maxsize: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0 or maxsize < 1:
            raise ValueError("ttl must be >= 0 and maxsize >= 1")
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._loads: dict[K, _Load[V]] = {}

    async def get_or_load(
        self,
        key: K,
        loader: Callable[[], Awaitable[V | None]],
        revalidate: Callable[[V], Awaitable[bool]] | None = None,
    ) -> V | None:
        """The cached value, or `loader()`'s, loading each key once however many callers miss at once.

        When the entry has expired and `revalidate(old value)` says it still holds, the
        old value is kept for another `ttl` instead of being loaded again. A None result
        is not cached. An error reaches every caller waiting for that load.
        """
        while True:
            value = self.get(key)
            if value is not None:
                return value
            load = self._loads.get(key)
            if load is None:
                break
            await load.done.wait()
            if load.error is not None:
                raise load.error
            if load.finished:
                return load.value
            # The loading caller was cancelled before it finished: load again.
        load = self._loads[key] = _Load()
        try:
            stale = self.peek(key)
            if revalidate is not None and stale is not None and await revalidate(stale):
                value = stale
            else:
                value = await loader()
        except Exception as exc:
            load.error = exc
            raise
        else:
            load.value, load.finished = value, True
            if value is not None:
                self.set(key, value)
            return value
        finally:
            del self._loads[key]
            load.done.set()

    def get(self, key: K) -> V | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            return None
        self._data.move_to_end(key)
        return value

    def peek(self, key: K) -> V | None:
        """The value held for `key`, expired or not, without touching its LRU position."""
        item = self._data.get(key)
        return item[1] if item is not None else None

    def set(self, key: K, value: V) -> None:
        if self.ttl == 0:
            return
        self._data[key] = (self._clock() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def invalidate(self, key: K | None = None) -> None:
        """Forget one entry, or everything when `key` is None."""
        if key is None:
            self._data.clear()
        else:
            self._data.pop(key, None)

    def held_keys(self) -> list[K]:
        """The keys held, expired ones included."""
        return list(self._data)

    def __len__(self) -> int:
        return len(self._data)
