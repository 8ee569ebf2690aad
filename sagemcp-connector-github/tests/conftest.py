"""Fixtures shared by the GitHub connector tests; the helpers themselves are in `github_support`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from github_support import FakeGitHub, Responder, load_description

from sagemcp.testing import OpenAPIValidator


@pytest.fixture(scope="session")
def github_description() -> OpenAPIValidator:
    """GitHub's REST API description as a request validator (loaded once per test session)."""
    return load_description()


@pytest.fixture
def fake_github(github_description: OpenAPIValidator) -> Callable[..., FakeGitHub]:
    """Make a `FakeGitHub` validating against the description: `fake_github({"issues/get": responder})`."""

    def make(responses: Mapping[str, str | Responder] | None = None, **kwargs: Any) -> FakeGitHub:
        return FakeGitHub(github_description, responses, **kwargs)

    return make
