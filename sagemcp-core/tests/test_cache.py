"""TTLCache: expiry, LRU bound, and one load per key however many callers miss at once."""

from __future__ import annotations

import anyio
import pytest

from sagemcp._cache import TTLCache


def test_entries_expire_and_the_size_is_bounded() -> None:
    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(ttl=5, maxsize=2, clock=lambda: now[0])
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)  # evicts b, the least recently used
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    now[0] = 5.0
    assert cache.get("a") is None


async def test_concurrent_misses_load_once() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.05)
        return 42

    results: list[int | None] = []

    async def one() -> None:
        results.append(await cache.get_or_load("k", load))

    async with anyio.create_task_group() as tg:
        for _ in range(32):
            tg.start_soon(one)
    assert calls == 1
    assert results == [42] * 32


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.02)
        raise LookupError("gone")

    errors: list[Exception] = []

    async def one() -> None:
        try:
            await cache.get_or_load("k", load)
        except LookupError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(one)
    assert calls == 1 and len(errors) == 5
    with pytest.raises(LookupError):
        await cache.get_or_load("k", load)
    assert calls == 2


async def test_none_is_not_cached() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    calls = 0

    async def load() -> int | None:
        nonlocal calls
        calls += 1
        return None

    assert await cache.get_or_load("k", load) is None
    assert await cache.get_or_load("k", load) is None
    assert calls == 2


async def test_an_expired_entry_that_still_holds_is_kept_without_loading() -> None:
    now = [0.0]
    cache: TTLCache[str, object] = TTLCache(ttl=5, clock=lambda: now[0])
    first, second = object(), object()
    loads: list[object] = []
    checks: list[object] = []
    verdict = [True]

    async def load() -> object:
        loads.append(second if loads else first)
        return loads[-1]

    async def still_holds(value: object) -> bool:
        checks.append(value)
        return verdict[0]

    assert await cache.get_or_load("k", load, still_holds) is first
    assert checks == []  # nothing to revalidate yet
    assert await cache.get_or_load("k", load, still_holds) is first
    assert checks == []  # fresh: not revalidated
    now[0] = 6.0
    assert cache.get("k") is None and cache.peek("k") is first
    assert await cache.get_or_load("k", load, still_holds) is first
    assert checks == [first] and len(loads) == 1
    assert await cache.get_or_load("k", load, still_holds) is first  # renewed for another ttl
    assert checks == [first]
    now[0] = 12.0
    verdict[0] = False
    assert await cache.get_or_load("k", load, still_holds) is second
    assert len(loads) == 2
    cache.invalidate("k")
    assert cache.peek("k") is None  # an invalidated entry is not revalidated, it is gone


async def test_a_failing_revalidation_reaches_the_caller_and_keeps_nothing_new() -> None:
    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(ttl=1, clock=lambda: now[0])
    cache.set("k", 1)
    now[0] = 2.0

    async def broken(value: int) -> bool:
        raise RuntimeError("store down")

    async def load() -> int:
        raise AssertionError("not reached")

    with pytest.raises(RuntimeError):
        await cache.get_or_load("k", load, broken)
    assert cache.get("k") is None and cache.peek("k") == 1
