"""Fixtures: the OpenAPI validator (loaded once per session), the contract checker and the fake Slack."""

from __future__ import annotations

import pytest
from slack_support import SPEC_FILE, Contract, FakeSlack

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def contract_validator() -> OpenAPIValidator:
    if not SPEC_FILE.exists():
        pytest.fail(f"Slack's API description is missing at {SPEC_FILE}: clone the shared/ specs beside the repository")
    return OpenAPIValidator.from_file(SPEC_FILE)


@pytest.fixture
def contract(contract_validator: OpenAPIValidator) -> Contract:
    return Contract(contract_validator)


@pytest.fixture
def slack(contract: Contract) -> FakeSlack:
    return FakeSlack(contract)
