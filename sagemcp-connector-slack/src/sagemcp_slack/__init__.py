"""sagemcp-connector-slack: Slack's Web API as MCP tools for sagemcp.

Install it next to sagemcp-core (or the sagemcp server); the entry point `slack` in the
group `sagemcp.connectors` makes `SlackConnector` available to every installation.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .connector import SlackConfig, SlackConnector

__all__ = ["SlackConfig", "SlackConnector", "__version__"]
