"""SQL storage: the tables, the engine, the migrations and `SqlStore`."""

from .engine import create_engine
from .migrate import current_revision, head_revision, upgrade
from .store import DatabaseUnavailable, Duplicate, SqlStore

__all__ = [
    "DatabaseUnavailable",
    "Duplicate",
    "SqlStore",
    "create_engine",
    "current_revision",
    "head_revision",
    "upgrade",
]
