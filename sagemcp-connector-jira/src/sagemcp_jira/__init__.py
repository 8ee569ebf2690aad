"""sagemcp connector for Jira.

`pip install sagemcp-connector-jira`; the entry point is `jira`.
"""

from __future__ import annotations

from importlib.metadata import version as _version

__version__: str = _version("sagemcp-connector-jira")  # pyproject.toml holds the one version number

from .connector import JiraConfig, JiraConnector

__all__ = ["JiraConfig", "JiraConnector", "__version__"]
