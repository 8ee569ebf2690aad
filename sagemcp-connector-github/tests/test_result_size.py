"""No list tool returns more than a model can take: full pages of long items stay well under 25,000 tokens,
and their Markdown text is smaller than their JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from github_cases import CASES
from github_support import FakeGitHub

from sagemcp.testing import OpenAPIValidator, call_tool
from sagemcp_github import GitHubConnector

MAX_CHARS = 80_000
"""About 20,000 tokens: the most one page of any tool may hold, with room to spare."""
LONG_BODY = "A long paragraph of Markdown with `code` and **emphasis**. " * 150  # about 9,000 characters
LIST_KEYS = ("items", "workflow_runs", "jobs", "workflows", "tree", "check_runs")


def _maximum(schema: dict[str, Any]) -> int:
    for node in [schema, *schema.get("anyOf", [])]:
        if "maximum" in node:
            return int(node["maximum"])
    raise AssertionError("limit has no maximum")


LIST_CASES = []
for _name, _args in CASES:
    _props = GitHubConnector.tools[_name].input_schema["properties"]
    if "limit" in _props and _name not in {n for n, _ in LIST_CASES}:
        LIST_CASES.append((_name, {**_args, "limit": _maximum(_props["limit"])}))


def _fill(items: list[Any], count: int) -> list[Any]:
    """`count` copies of the first item, made as heavy as real data gets (long bodies, messages)."""
    if not items or not isinstance(items[0], dict):
        return items
    item = dict(items[0])
    item.pop("pull_request", None)
    for key in ("body", "description"):
        if key in item:
            item[key] = LONG_BODY
    if isinstance(item.get("commit"), dict):
        item["commit"] = dict(item["commit"], message="Subject line\n\n" + LONG_BODY)
    return [dict(item, id=n, number=n + 1) for n in range(count)]


def _heavy_pages(fake: FakeGitHub, count: int) -> Callable[[httpx.Request], httpx.Response]:
    """A fake GitHub whose lists hold `count` heavy items."""

    def handler(request: httpx.Request) -> httpx.Response:
        answer = fake(request)
        try:
            body = answer.json()
        except ValueError:
            return answer
        if isinstance(body, list):
            body = _fill(body, count)
        elif isinstance(body, dict):
            for key in LIST_KEYS:
                if isinstance(body.get(key), list):
                    body[key] = _fill(body[key], count)
        return httpx.Response(answer.status_code, json=body, headers={"Link": answer.headers.get("link", "")})

    return handler


@pytest.mark.parametrize(("tool_name", "arguments"), LIST_CASES, ids=[name for name, _ in LIST_CASES])
async def test_a_full_page_of_long_items_stays_small(
    tool_name: str, arguments: dict[str, Any], github_description: OpenAPIValidator
) -> None:
    count = arguments["limit"]
    handler = _heavy_pages(FakeGitHub(github_description), count)
    result = await call_tool(GitHubConnector, tool_name, arguments, handler=handler)
    assert not result.is_error, result.text[:300]
    assert len(result.text) <= MAX_CHARS, f"{tool_name}: {len(result.text):,} characters for {count} items"


@pytest.mark.parametrize(("tool_name", "arguments"), LIST_CASES, ids=[name for name, _ in LIST_CASES])
async def test_the_markdown_of_a_page_is_smaller_than_its_json(
    tool_name: str, arguments: dict[str, Any], github_description: OpenAPIValidator
) -> None:
    handler = _heavy_pages(FakeGitHub(github_description), 10)
    result = await call_tool(GitHubConnector, tool_name, {**arguments, "limit": 10}, handler=handler)
    assert not result.is_error, result.text[:300]
    structured = json.dumps(result.structured, separators=(",", ":"), ensure_ascii=False)
    assert len(result.text) < len(structured), (tool_name, len(result.text), len(structured))
