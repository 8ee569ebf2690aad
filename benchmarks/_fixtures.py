"""Tool results from the connectors' own test fixtures, to measure what a call puts in a model's context.

Every connector's tests call each tool with representative arguments (`tests/<id>_cases.py`)
against a fake upstream that answers with the provider's documented examples
(`tests/fixtures/`, checked against the provider's API description). This module runs the
same calls through `sagemcp.testing.call_tool` and yields each result's text (what the model
reads) and structured content (what a client may also receive). The fakes live in the
connectors' test directories, so they must be in the checkout (they are not in the wheels).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemcp.testing import ToolCall, call_tool

__all__ = ["FixtureResult", "fixture_results"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class FixtureResult:
    tool: str
    text: str
    structured: dict[str, Any] | None
    is_error: bool
    skipped: str = ""
    """Why the call could not run here (a case the tests prepare by hand), or empty."""


@contextmanager
def _tests_on_path(connector: str) -> Iterator[None]:
    tests = str(ROOT / f"sagemcp-connector-{connector}" / "tests")
    sys.path.insert(0, tests)
    try:
        yield
    finally:
        sys.path.remove(tests)


Call = Callable[[str, dict[str, Any]], Any]


def _github() -> tuple[list[tuple[str, dict[str, Any]]], Call]:
    support, cases = importlib.import_module("github_support"), importlib.import_module("github_cases")
    from sagemcp_github import GitHubConnector

    description = support.load_description()
    return cases.CASES, lambda name, args: call_tool(
        GitHubConnector, name, args, handler=support.FakeGitHub(description)
    )


def _google() -> tuple[list[tuple[str, dict[str, Any]]], Call]:
    support, cases = importlib.import_module("google_support"), importlib.import_module("google_cases")
    from sagemcp_google import GoogleConnector

    return cases.CASES, lambda name, args: call_tool(GoogleConnector, name, args, handler=support.FakeGoogle())


def _jira() -> tuple[list[tuple[str, dict[str, Any]]], Call]:
    support, cases = importlib.import_module("jira_support"), importlib.import_module("jira_cases")
    from sagemcp_jira import JiraConnector

    descriptions, cloud = support.load_descriptions(), support.CLOUD
    return cases.CASES, lambda name, args: call_tool(
        JiraConnector,
        name,
        args,
        handler=support.FakeJira(descriptions, cloud),
        config=cloud.config,
        credential=cloud.credential,
    )


def _notion() -> tuple[list[tuple[str, dict[str, Any]]], Call]:
    support, cases = importlib.import_module("notion_support"), importlib.import_module("notion_cases")
    from sagemcp_notion import NotionConnector

    description = support.load_description()
    return cases.CASES, lambda name, args: call_tool(
        NotionConnector, name, args, handler=support.FakeNotion(description)
    )


def _slack() -> tuple[list[tuple[str, dict[str, Any]]], Call]:
    support, cases = importlib.import_module("slack_support"), importlib.import_module("slack_cases")
    from sagemcp.testing import OpenAPIValidator

    validator = OpenAPIValidator.from_file(support.SPEC_FILE)

    async def call(name: str, _: dict[str, Any]) -> ToolCall:
        # Slack's sample calls prepare the fake (a message to update, a file to share) before they run.
        fake = support.FakeSlack(support.Contract(validator))
        result: ToolCall = await support.run(fake, name, cases.prepared(fake, name))
        return result

    return [(name, {}) for name in sorted(cases.ALL_CALLS)], call


def _zoom() -> tuple[list[tuple[str, dict[str, Any]]], Call]:
    support, cases = importlib.import_module("zoom_support"), importlib.import_module("zoom_cases")
    from sagemcp_zoom import ZoomConnector

    description = support.load_description()
    return cases.CASES, lambda name, args: call_tool(ZoomConnector, name, args, handler=support.FakeZoom(description))


_HARNESSES: dict[str, Callable[[], tuple[list[tuple[str, dict[str, Any]]], Call]]] = {
    "github": _github,
    "google": _google,
    "jira": _jira,
    "notion": _notion,
    "slack": _slack,
    "zoom": _zoom,
}


async def fixture_results(connector: str) -> AsyncIterator[FixtureResult]:
    """Every sample call of `connector`'s tests, as results (a tool may have several)."""
    with _tests_on_path(connector):
        cases, call = _HARNESSES[connector]()
        for name, arguments in cases:
            try:
                result: ToolCall = await call(name, dict(arguments))
            except Exception as exc:  # the fake refuses a request its case needs set up by hand
                yield FixtureResult(name, "", None, True, skipped=f"{type(exc).__name__}: {str(exc)[:120]}")
                continue
            yield FixtureResult(name, result.text, result.structured, result.is_error)
