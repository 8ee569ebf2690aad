"""Fixtures: the OpenAPI validator (loaded once per session), the contract checker and the fake Slack."""

from __future__ import annotations

import os

# The tests (and the server processes they start) talk to local fake upstreams on 127.0.0.1,
# which production configurations refuse; this is the operator's switch for development.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")


import pytest
from slack_support import SPEC_FILE, Contract, FakeSlack

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def contract_validator() -> OpenAPIValidator:
    return OpenAPIValidator.from_file(SPEC_FILE)  # read from the .json.gz stored beside that name


@pytest.fixture
def contract(contract_validator: OpenAPIValidator) -> Contract:
    return Contract(contract_validator)


@pytest.fixture
def slack(contract: Contract) -> FakeSlack:
    return FakeSlack(contract)
