"""The connector the benchmark measures: the GitHub connector, as the issue asks (`github_get_issue`)."""

from __future__ import annotations

from typing import Any

from sagemcp import Connector


def connector_class() -> tuple[type[Connector], str]:
    """The connector to benchmark and a label saying which one it is."""
    try:
        from sagemcp_github.connector import GitHubConnector
    except ImportError as exc:  # the benchmark measures a real connector, never a stand-in
        raise SystemExit(
            "the benchmark needs the GitHub connector: pip install -e sagemcp-connector-github (nox -s bench does)"
        ) from exc
    return GitHubConnector, "sagemcp_github.GitHubConnector"


def connector_configuration(upstream_url: str) -> dict[str, Any]:
    """The per-tenant configuration pointing the connector at the fake upstream."""
    return {"api_url": upstream_url}


def tool_catalog(cls: type[Connector]) -> list[dict[str, Any]]:
    """The tools a default connector serves, as `tools/list` JSON: the SDK and floor targets serve these too."""
    from sagemcp.mcp import tool_listing  # the adapter's own listing, so the lists are identical

    return tool_listing(cls)
