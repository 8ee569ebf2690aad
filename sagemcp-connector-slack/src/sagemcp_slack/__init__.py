"""sagemcp-connector-slack: Slack's Web API as MCP tools for sagemcp.

Install it next to sagemcp-core (or the sagemcp server); the entry point `slack` in the
group `sagemcp.connectors` makes `SlackConnector` available to every installation.
"""

from __future__ import annotations

from importlib.metadata import version as _version

__version__: str = _version("sagemcp-connector-slack")  # pyproject.toml holds the one version number

from .connector import SlackConfig, SlackConnector

__all__ = ["SlackConfig", "SlackConnector", "__version__"]
