"""Fixtures shared by the Zoom connector tests; the helpers themselves are in `zoom_support`."""

from __future__ import annotations

import pytest
from zoom_support import load_description

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def zoom_description() -> OpenAPIValidator:
    """The API description as a request validator (loaded once per test session)."""
    return load_description()
