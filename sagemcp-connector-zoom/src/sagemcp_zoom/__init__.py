"""sagemcp connector for Zoom (`pip install sagemcp-connector-zoom`; entry point `zoom`)."""

from __future__ import annotations

from importlib.metadata import version as _version

__version__: str = _version("sagemcp-connector-zoom")  # pyproject.toml holds the one version number

from .connector import ZoomConfig, ZoomConnector

__all__ = ["ZoomConfig", "ZoomConnector", "__version__"]
