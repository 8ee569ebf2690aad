"""The generated tool reference in the README and the docs page matches the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemcp.catalog import update_file
from sagemcp_github import GitHubConnector

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"
DOCS_PAGE = PACKAGE.parent / "docs" / "connectors" / "github.md"
FIX = "python -m sagemcp.catalog sagemcp_github.connector:GitHubConnector --update {path}"


@pytest.mark.parametrize("path", [README, DOCS_PAGE], ids=["README", "docs"])
def test_tool_reference_is_current(path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing")
    assert update_file(path, GitHubConnector, check=True), f"{path} is out of date: run {FIX.format(path=path)}"


@pytest.mark.parametrize("path", [README, DOCS_PAGE], ids=["README", "docs"])
def test_every_tool_and_scope_is_documented(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for name in GitHubConnector.tools:
        assert f"`{name}`" in text, name
    for scope in GitHubConnector.oauth_scopes(None):
        assert f"`{scope}`" in text, scope
