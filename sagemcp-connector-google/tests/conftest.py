"""Shared setup of the Google connector tests; the helpers are in `google_support`."""

from __future__ import annotations

import os

# The end-to-end tests reach a local fake Google on 127.0.0.1, which production configurations refuse.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")

import pytest
from google_support import validator

from sagemcp.testing import DiscoveryValidator


@pytest.fixture(scope="session")
def google_description() -> DiscoveryValidator:
    """The five discovery documents as one request validator (loaded once per session)."""
    return validator()
