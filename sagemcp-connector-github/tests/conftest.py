"""Fixtures shared by the GitHub connector tests; the helpers themselves are in `github_support`."""

from __future__ import annotations

import pytest
from github_support import load_description

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def github_description() -> OpenAPIValidator:
    """GitHub's REST API description as a request validator (loaded once per test session)."""
    return load_description()
