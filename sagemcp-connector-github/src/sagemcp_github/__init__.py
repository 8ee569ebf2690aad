"""sagemcp connector for GitHub (`pip install sagemcp-connector-github`; entry point `github`)."""

from __future__ import annotations

from importlib.metadata import version as _version

__version__: str = _version("sagemcp-connector-github")  # pyproject.toml holds the one version number

from .auth import GitHubAppAuth
from .connector import GitHubConfig, GitHubConnector

__all__ = ["GitHubAppAuth", "GitHubConfig", "GitHubConnector", "__version__"]
