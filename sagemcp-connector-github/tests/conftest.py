"""Fixtures shared by the GitHub connector tests; the helpers themselves are in `github_support`."""

from __future__ import annotations

import os

# The tests (and the server processes they start) talk to local fake upstreams on 127.0.0.1,
# which production configurations refuse; this is the operator's switch for development.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")


import pytest
from github_support import load_description

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def github_description() -> OpenAPIValidator:
    """GitHub's REST API description as a request validator (loaded once per test session)."""
    return load_description()
