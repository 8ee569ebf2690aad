"""The sagemcp performance benchmark: sagemcp against the bare MCP SDK and a bare Starlette floor.

`python -m benchmarks.run` (or `nox -s bench`) measures every cell; `python -m
benchmarks.scale` checks 10,000 tenants and memory flatness; `python -m
benchmarks.queries` counts database queries per call. See benchmarks/README.md.
"""
