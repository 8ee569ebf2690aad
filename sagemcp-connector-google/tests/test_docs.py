"""The README's tool reference matches the code, and every tool and OAuth scope is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemcp.catalog import update_file
from sagemcp_google import GoogleConnector

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"
DOCS_PAGE = PACKAGE.parent / "docs" / "connectors" / "google.md"
"""The connector's page of the documentation site, once it has one."""
PAGES = [README, DOCS_PAGE] if DOCS_PAGE.exists() else [README]
FIX = "python -m sagemcp.catalog sagemcp_google.connector:GoogleConnector --update {path}"


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_the_tool_reference_is_current(path: Path) -> None:
    current = update_file(path, GoogleConnector, check=True)
    assert current, f"{path} is out of date: run {FIX.format(path=path)}"


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_every_tool_and_scope_is_documented(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for name in GoogleConnector.tools:
        assert f"`{name}`" in text, name
    for scope in GoogleConnector.oauth_scopes(None):
        assert f"`{scope}`" in text, scope
