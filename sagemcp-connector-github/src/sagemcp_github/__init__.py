"""sagemcp connector for GitHub (`pip install sagemcp-connector-github`; entry point `github`)."""

from __future__ import annotations

from .auth import GitHubAppAuth
from .connector import GitHubConfig, GitHubConnector

__all__ = ["GitHubAppAuth", "GitHubConfig", "GitHubConnector"]
