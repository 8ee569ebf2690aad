"""Alembic migrations of the sagemcp server database (run them with `sagemcp db upgrade`)."""
