"""The connectors the benchmark measures: GitHub (`github_get_issue`, one upstream GET per call) and the
reference server's `demo` connector (`demo_echo`, no upstream call: what the platform alone costs)."""

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


def echo_connector_class() -> tuple[type[Connector] | None, str]:
    """The connector of the echo cells (the reference server's `demo`), or None and why it is missing."""
    try:
        from sagemcp_server.connectors.demo import DemoConnector
    except ImportError as exc:
        return None, f"the echo tool comes from sagemcp-server's demo connector, which cannot be imported ({exc})"
    return DemoConnector, "sagemcp_server.connectors.demo.DemoConnector"


def echo_catalog() -> list[dict[str, Any]]:
    """The echo connector's tools as `tools/list` JSON; empty when it is not installed."""
    cls, _ = echo_connector_class()
    return tool_catalog(cls) if cls is not None else []
