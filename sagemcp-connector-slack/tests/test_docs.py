"""The README and the docs page: generated tool lists current, the app manifest in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sagemcp.catalog import update_file
from sagemcp_slack import SlackConfig, SlackConnector

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"
DOCS_PAGE = PACKAGE.parent / "docs" / "connectors" / "slack.md"
PAGES = [README, DOCS_PAGE]


def manifest(path: Path) -> dict[str, object]:
    match = re.search(r"```yaml\n(.*?)```", path.read_text(), re.DOTALL)
    assert match, f"{path.name} has no YAML app manifest"
    return dict(yaml.safe_load(match.group(1)))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_tool_lists_are_current(path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing")
    assert update_file(path, SlackConnector, check=True), (
        f"{path.name} is out of date: run python -m sagemcp.catalog sagemcp_slack.connector:SlackConnector "
        f"--update {path}"
    )
    for name in SlackConnector.tools:
        assert f"`{name}`" in path.read_text()


def test_manifest_scopes_match_the_connector() -> None:
    scopes = manifest(README)["oauth_config"]["scopes"]  # type: ignore[index]
    assert set(scopes["bot"]) == set(SlackConnector.oauth_scopes(None))  # every tool's bot scope, no more
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert set(SlackConnector.linked_oauth_scopes(None)["user"]) <= set(scopes["user"])
    redirect = manifest(README)["oauth_config"]["redirect_urls"][0]  # type: ignore[index]
    assert redirect.endswith("/api/v1/oauth/callback/slack")


def test_docs_page_has_the_same_manifest() -> None:
    assert manifest(DOCS_PAGE) == manifest(README)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_configuration_keys_are_documented(path: Path) -> None:
    text = path.read_text()
    for key in SlackConfig.model_fields:
        assert f"`{key}`" in text
    assert "/api/v1/admin/tenants/acme/credentials/slack" in text
