"""Fixtures shared by the Notion connector tests; the helpers themselves are in `notion_support`."""

from __future__ import annotations

import os

# The end-to-end server talks to a local fake Notion on 127.0.0.1, which production configurations
# refuse; this is the operator's switch for development.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")

import pytest
from notion_support import load_description

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def notion_description() -> OpenAPIValidator:
    """Notion's API description with the hand-written schemas, as a request validator (once per session)."""
    return load_description()
