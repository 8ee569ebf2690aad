"""The README and the documentation page list every tool (generated), every OAuth scope, every credential kind
and configuration field, and say how to connect Jira from the CLI and the admin API."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemcp.catalog import update_file
from sagemcp_jira import JiraConfig, JiraConnector

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"
DOCS_PAGE = PACKAGE.parent / "docs" / "connectors" / "jira.md"
MKDOCS = PACKAGE.parent / "mkdocs.yml"
PAGES = [README, DOCS_PAGE]
FIX = "python -m sagemcp.catalog sagemcp_jira.connector:JiraConnector --update {path}"


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_the_tool_reference_is_current(path: Path) -> None:
    current = update_file(path, JiraConnector, check=True)
    assert current, f"{path} is out of date: run {FIX.format(path=path)}"


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_every_tool_scope_kind_and_setting_is_documented(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for name in JiraConnector.tools:
        assert f"`{name}`" in text, name
    for scope in JiraConnector.oauth_scopes(None):
        assert f"`{scope}`" in text, scope
    for scheme in JiraConnector.auth:
        assert f'`kind="{scheme.kind}"`' in text, scheme.kind
    for setting in JiraConfig.model_fields:
        assert f"| `{setting}` |" in text, setting
    assert "sagemcp credential set jira" in text and "PUT /api/v1/admin/tenants/acme/credentials/jira" in text
    assert "/api/v1/oauth/callback/jira" in text


def test_the_page_is_in_the_site_navigation() -> None:
    assert "connectors/jira.md" in MKDOCS.read_text(encoding="utf-8")
