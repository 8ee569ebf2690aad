"""Fixtures shared by the Jira connector tests; the helpers themselves are in `jira_support`."""

from __future__ import annotations

import os

# The end-to-end tests (and the server process they start) talk to a local fake Jira on 127.0.0.1,
# which production configurations refuse; this is the operator's switch for development.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")

import pytest
from jira_support import Descriptions, load_descriptions


@pytest.fixture(scope="session")
def jira_descriptions() -> Descriptions:
    """Atlassian's descriptions (platform, agile) and the hand-written Data Center one, loaded once."""
    return load_descriptions()
