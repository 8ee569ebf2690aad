"""Steady-state MCP calls send no database query: `python -m pytest benchmarks/test_queries.py`.

A benchmark target, not a unit test of one package: it builds the reference server's
app in-process on SQLite (see `benchmarks.queries`) and counts statements with
SQLAlchemy's `before_cursor_execute` event.
"""

from __future__ import annotations

import pytest

from .provision import sql_available
from .queries import count

pytestmark = pytest.mark.skipif(sql_available() is not None, reason=str(sql_available()))


@pytest.fixture(autouse=True)
def _loopback_upstream(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake upstream is on 127.0.0.1; allowed for this test only, not for the rest of the session.
    monkeypatch.setenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")


@pytest.mark.parametrize("stateful", [False, True], ids=["stateless", "stateful"])
async def test_no_database_query_per_call_in_the_steady_state(stateful: bool) -> None:
    result = await count(calls=50, stateful=stateful)
    assert result["cells"], "no cell ran"
    for name, cell in result["cells"].items():
        assert cell["steady_queries"] == 0, f"{name}: {cell['steady_queries']} queries, e.g. {cell['examples']}"
        assert cell["first_call_queries"] <= 4, f"{name}: a cache fill took {cell['first_call_queries']} queries"
