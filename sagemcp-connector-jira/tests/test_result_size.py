"""Output budgets: a realistic page of 50 issues from a JQL search reads in under a quarter of the raw API
bytes, every list tool's full page stays far below the result cap, and long text is cut with the marker."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jira_cases import CASES
from jira_support import CLOUD, Descriptions, FakeJira

from sagemcp.testing import call_tool
from sagemcp_jira import JiraConnector

SITE = "https://your-domain.atlassian.net"
AVATAR = "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/5b10a2844c20165700ede21g/{size}.png"


def _user(number: int) -> dict[str, Any]:
    account = f"5b10a2844c20165700ede2{number:02d}"
    return {
        "self": f"{SITE}/rest/api/3/user?accountId={account}",
        "accountId": account,
        "emailAddress": f"person{number}@example.com",
        "avatarUrls": {f"{s}x{s}": AVATAR.format(size=s) for s in (48, 24, 16, 32)},
        "displayName": f"Person Number{number}",
        "active": True,
        "timeZone": "Europe/Berlin",
        "accountType": "atlassian",
    }


def realistic_issue(number: int) -> dict[str, Any]:
    """One issue as Jira Cloud's /search/jql returns it for the default fields (shapes of the description's schemas)."""
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": str(10000 + number),
        "self": f"{SITE}/rest/api/3/issue/{10000 + number}",
        "key": f"EX-{number}",
        "fields": {
            "summary": f"Checkout fails for returning customers on step {number} of the payment flow",
            "status": {
                "self": f"{SITE}/rest/api/3/status/3",
                "description": "This issue is being actively worked on at the moment by the assignee.",
                "iconUrl": f"{SITE}/images/icons/statuses/inprogress.png",
                "name": "In Progress",
                "id": "3",
                "statusCategory": {
                    "self": f"{SITE}/rest/api/3/statuscategory/4",
                    "id": 4,
                    "key": "indeterminate",
                    "colorName": "yellow",
                    "name": "In Progress",
                },
            },
            "issuetype": {
                "self": f"{SITE}/rest/api/3/issuetype/10001",
                "id": "10001",
                "description": "A problem which impairs or prevents the functions of the product.",
                "iconUrl": f"{SITE}/rest/api/2/universal_avatar/view/type/issuetype/avatar/10303?size=medium",
                "name": "Bug",
                "subtask": False,
                "avatarId": 10303,
                "entityId": "c1a4f7e0-3b6d-4f6e-9d2a-1c0b5e8f7a21",
                "hierarchyLevel": 0,
            },
            "priority": {
                "self": f"{SITE}/rest/api/3/priority/2",
                "iconUrl": f"{SITE}/images/icons/priorities/high.svg",
                "name": "High",
                "id": "2",
            },
            "assignee": _user(number % 7),
            "updated": "2024-05-02T14:31:07.120+0200",
        },
    }


async def test_fifty_issues_read_in_under_a_quarter_of_the_raw_bytes(jira_descriptions: Descriptions) -> None:
    page = {"issues": [realistic_issue(n) for n in range(1, 51)], "nextPageToken": "CAEaAggD", "isLast": False}
    raw = json.dumps(page).encode()
    fake = FakeJira(jira_descriptions, CLOUD, responses={"searchAndReconsileIssuesUsingJqlPost": page})
    result = await call_tool(
        JiraConnector,
        "jira_search_issues",
        {"jql": "project = EX", "limit": 50},
        handler=fake,
        config=CLOUD.config,
        credential=CLOUD.credential,
    )
    assert not result.is_error, result.text
    assert result.structured is not None and len(result.structured["items"]) == 50
    text = result.text.encode()
    structured = json.dumps(result.structured, separators=(",", ":")).encode()
    assert len(text) < len(raw) / 4, (len(text), len(raw))
    assert len(structured) < len(raw) / 4, (len(structured), len(raw))
    assert "| EX-50 | Checkout fails for returning customers on step 50" in result.text
    assert "More results: call again with cursor=" in result.text


LONG = "A long paragraph of a Jira comment with *emphasis* and code. " * 400  # about 25,000 characters
LIST_CASES = []
for _name, _args in CASES:
    _props = JiraConnector.tools[_name].input_schema["properties"]
    if "limit" in _props and _name not in {n for n, _ in LIST_CASES}:
        _limit = _props["limit"]
        LIST_CASES.append((_name, {**_args, "limit": _limit.get("maximum") or _limit["anyOf"][0]["maximum"]}))


def _heavy(value: Any, count: int, depth: int = 0) -> Any:
    """The answer's list of items (at the top, or one level down) filled to `count` copies, long text in them."""
    if isinstance(value, list) and value and isinstance(value[0], dict) and depth <= 1:
        return [_long(dict(value[0], id=str(n), key=f"EX-{n}")) for n in range(count)]
    if isinstance(value, dict) and depth == 0:
        return {k: _heavy(v, count, depth + 1) for k, v in value.items()}
    return value


def _long(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (LONG if k in ("description", "body", "comment", "goal") and isinstance(v, str) else v)
        for k, v in item.items()
    }


@pytest.mark.parametrize(("tool_name", "arguments"), LIST_CASES, ids=[n for n, _ in LIST_CASES])
async def test_a_full_page_of_heavy_items_stays_well_under_the_cap(
    tool_name: str, arguments: dict[str, Any], jira_descriptions: Descriptions
) -> None:
    inner = FakeJira(jira_descriptions, CLOUD)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = inner(request)
        try:
            data = answer.json()
        except ValueError:
            return answer
        return httpx.Response(answer.status_code, json=_heavy(data, arguments["limit"]))

    result = await call_tool(
        JiraConnector, tool_name, arguments, handler=handler, config=CLOUD.config, credential=CLOUD.credential
    )
    assert not result.is_error, result.text[:300]
    assert len(result.text) <= 80_000, f"{tool_name}: {len(result.text):,} characters"


async def test_a_long_description_is_cut_with_the_marker(jira_descriptions: Descriptions) -> None:
    issue = {"key": "EX-1", "id": "1", "fields": {"summary": "s", "description": "x" * 50_000}}
    fake = FakeJira(jira_descriptions, CLOUD, responses={"getIssue": issue})
    result = await call_tool(
        JiraConnector,
        "jira_get_issue",
        {"issue": "EX-1"},
        handler=fake,
        config=CLOUD.config,
        credential=CLOUD.credential,
    )
    assert "…[truncated: 12,000 of 50,000 characters shown; the description is longer" in result.text
    assert len(result.text) < 14_000
