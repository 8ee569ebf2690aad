"""Fixtures of the reliability suite: hypothesis profiles, the log tap, and the PostgreSQL switch.

Hypothesis runs the `ci` profile unless `SAGEMCP_HYPOTHESIS_PROFILE` names another (`thorough` runs ten
times as many examples). Tests marked `postgres` need `SAGEMCP_TEST_POSTGRES_URL`
(`postgresql+asyncpg://postgres@127.0.0.1:5432/test`); without it they are skipped with that reason.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from ._support import LEDGER, LogTap

# Fake upstreams listen on 127.0.0.1, which the upstream client connects to only with the operator's loopback
# switch; the tests of the production rules (test_ssrf, test_admin_ssrf) turn it off themselves.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("SAGEMCP_HYPOTHESIS_PROFILE", "ci"))

POSTGRES_ENV = "SAGEMCP_TEST_POSTGRES_URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(POSTGRES_ENV):
        return
    skip = pytest.mark.skip(
        reason=f"needs PostgreSQL: set {POSTGRES_ENV}=postgresql+asyncpg://user@127.0.0.1:5432/db to run it"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    admin = sys.modules.get("tests.reliability.test_admin_isolation")
    for backend, tally in sorted(getattr(admin, "TALLY", {}).items()):
        total = sum(v for k, v in tally.items() if k.startswith("route "))
        routes = sum(1 for k in tally if k.startswith("route "))
        ok = sum(v for k, v in tally.items() if k.startswith("ok "))
        terminalreporter.write_line(
            f"admin isolation ({backend}): {total} requests checked over {routes} routes, {ok} succeeded, "
            f"{tally['another tenant refused']} on another or no tenant's path refused, "
            f"{tally['state changed']} changed a tenant"
        )
    if not LEDGER.scanned_items:
        return
    sources = ", ".join(f"{count} {kind}" for kind, count in sorted(LEDGER.sources.items()))
    terminalreporter.write_line(
        f"secrets scan: {LEDGER.scanned_items} items ({sources}), {LEDGER.scanned_chars / 1e6:.1f} MB, "
        f"{len(LEDGER.known)} known secrets, {len(LEDGER.hits)} found"
    )


@pytest.fixture(scope="session", autouse=True)
def log_tap() -> Iterator[LogTap]:
    """Every log record of the session goes through the secret scan (INFO and up, as in production)."""
    tap = LogTap()
    tap.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(tap)
    previous = root.level
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        yield tap
    finally:
        root.removeHandler(tap)
        root.setLevel(previous)


@pytest.fixture
def no_new_leaks() -> Iterator[None]:
    """Fails the test if any known secret showed up in a response or log line while it ran."""
    mark = LEDGER.mark()
    yield
    leaks = LEDGER.since(mark)
    assert not leaks, f"secrets leaked: {[(h.where, h.excerpt) for h in leaks[:5]]}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV}")
    return url
