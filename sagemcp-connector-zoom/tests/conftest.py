"""Fixtures shared by the Zoom connector tests; the helpers themselves are in `zoom_support`."""

from __future__ import annotations

import os

# The end-to-end test's server talks to a local fake Zoom on 127.0.0.1, which production configurations
# refuse; this is the operator's switch for development.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")

import pytest
from zoom_support import FakeZoom, load_description

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def zoom_description() -> OpenAPIValidator:
    """Zoom's API description with the hand-written stand-ins, as a request validator (loaded once)."""
    return load_description()


@pytest.fixture
def zoom(zoom_description: OpenAPIValidator) -> FakeZoom:
    return FakeZoom(zoom_description)
