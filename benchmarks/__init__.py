"""The sagemcp performance benchmark: sagemcp against the bare MCP SDK and a bare Starlette floor.

`python -m benchmarks.run` (or `nox -s bench`) measures every cell; `python -m
benchmarks.scale` checks 10,000 tenants and memory flatness; `python -m
benchmarks.queries` counts database queries per call; `python -m benchmarks.cost`
counts the deterministic work per call that CI guards. See benchmarks/README.md.
"""

import os as _os


def allow_loopback_upstreams() -> None:
    """Every target talks to a fake upstream on 127.0.0.1, which production configurations refuse.

    Called by the command-line entry points only: importing the package (as the test
    collector does) changes nothing.
    """
    _os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")
