"""sagemcp-server: the reference server of sagemcp.

A Starlette application (`create_app`) that composes core, the installed connectors
and SQL storage (SQLite by default, PostgreSQL in production), plus the `sagemcp` CLI.
"""

from importlib.metadata import version as _version

__version__: str = _version("sagemcp-server")  # pyproject.toml holds the one version number

__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> object:
    # Importing the app pulls in the MCP SDK and SQLAlchemy; keep `import sagemcp_server` cheap.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
