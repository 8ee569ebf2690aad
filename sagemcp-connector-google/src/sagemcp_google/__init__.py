"""sagemcp connector for Google.

`pip install sagemcp-connector-google`; the entry point is `google`.
"""

from __future__ import annotations

from importlib.metadata import version as _version

__version__: str = _version("sagemcp-connector-google")  # pyproject.toml holds the one version number

from .connector import GoogleConfig, GoogleConnector

__all__ = ["GoogleConfig", "GoogleConnector", "__version__"]
