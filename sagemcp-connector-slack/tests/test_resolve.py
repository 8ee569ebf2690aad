"""Id -> name resolution lives and dies with one call: never shared between calls or tenants."""

from __future__ import annotations

import asyncio

from slack_support import Contract, FakeSlack, run

import sagemcp_slack._guard as guard_module
import sagemcp_slack._messages as messages_module
import sagemcp_slack._resolve as resolve_module
import sagemcp_slack.models as models_module
from sagemcp_slack._resolve import MAX_LOOKUPS

HISTORY = {
    "ok": True,
    "messages": [{"type": "message", "user": "U0AAAAAAA", "text": "hi <@U0AAAAAAA>", "ts": "1714564800.000100"}],
}


def tenant(contract: Contract, name: str) -> FakeSlack:
    fake = FakeSlack(contract)
    fake.on("conversations.history", HISTORY)
    fake.on("users.info", {"ok": True, "user": {"id": "U0AAAAAAA", "name": name, "profile": {"display_name": name}}})
    return fake


async def test_names_are_not_shared_between_tenants(contract: Contract) -> None:
    acme, globex = tenant(contract, "alice"), tenant(contract, "mallory")
    first = await run(acme, "slack_list_messages", {"channel": "C012AB3CD"})
    second = await run(globex, "slack_list_messages", {"channel": "C012AB3CD"})
    assert first.structured["items"][0]["text"] == "hi @alice"
    assert second.structured["items"][0]["text"] == "hi @mallory"
    assert len(acme.sent("users.info")) == len(globex.sent("users.info")) == 1


async def test_concurrent_calls_keep_their_own_names(contract: Contract) -> None:
    fakes = [tenant(contract, f"user{i}") for i in range(5)]
    calls = await asyncio.gather(*(run(f, "slack_list_messages", {"channel": "C012AB3CD"}) for f in fakes))
    assert [c.structured["items"][0]["author"] for c in calls] == [f"user{i}" for i in range(5)]


async def test_the_same_call_looks_each_id_up_once(slack: FakeSlack) -> None:
    slack.on(
        "conversations.history",
        {
            "ok": True,
            "messages": [
                {"user": "U0AAAAAAA", "text": f"<@U0AAAAAAA> {i}", "ts": f"17145648{i:02d}.000100"} for i in range(10)
            ],
        },
    )
    await run(slack, "slack_list_messages", {"channel": "C012AB3CD"})
    assert len(slack.sent("users.info")) == 1


async def test_lookups_are_bounded_and_stop_on_rate_limits(slack: FakeSlack) -> None:
    many = [{"user": f"U0{i:07d}", "text": "x", "ts": f"{1714564800 - i}.000100"} for i in range(100)]
    slack.on("conversations.history", {"ok": True, "messages": many})
    slack.on("users.info", {"ok": False, "error": "user_not_found"})
    await run(slack, "slack_list_messages", {"channel": "C012AB3CD", "limit": 100})
    assert len(slack.sent("users.info")) + len(slack.sent("conversations.info")) == MAX_LOOKUPS
    limited = FakeSlack(slack.contract)
    limited.on("conversations.history", {"ok": True, "messages": many})
    limited.on("users.info", {"ok": False, "error": "missing_scope", "needed": "users:read"})
    call = await run(limited, "slack_list_messages", {"channel": "C012AB3CD", "limit": 100})
    assert not call.is_error  # names are a nicety: ids are shown instead
    assert len(limited.sent("users.info")) <= 4  # the lookups already started when the first one failed


def test_no_module_level_caches() -> None:
    for module in (resolve_module, messages_module, models_module, guard_module):
        mutable = {
            name
            for name, value in vars(module).items()
            if isinstance(value, dict | set | list) and not name.startswith("__")
        }
        assert mutable == set(), f"{module.__name__} keeps {mutable} between calls"
