"""sagemcp connector for Notion.

`pip install sagemcp-connector-notion`; the entry point is `notion`.
"""

from __future__ import annotations

from importlib.metadata import version as _version

__version__: str = _version("sagemcp-connector-notion")  # pyproject.toml holds the one version number

from .connector import NotionConfig, NotionConnector

__all__ = ["NotionConfig", "NotionConnector", "__version__"]
