"""The reference server, `sagemcp serve`, as an operator starts it, with one benchmark-only switch.

Configuration comes from `SAGEMCP_*` variables, exactly as for `sagemcp serve`. Unless
`SAGEMCP_BENCH_NETWORK_BACKEND=sagemcp`, the app that `serve` builds gets a plain
`httpx.AsyncHTTPTransport` for its upstream calls through `create_app`'s public
`upstream_transport` parameter, so that it runs on the same network backend as the SDK
and floor targets (see `_tuning`). The harness checks the log for the line saying so:
if `serve` ever stops building its app through `sagemcp_server.app.create_app`, the
target fails instead of quietly measuring something else.

    SAGEMCP_DATABASE_URL=... SAGEMCP_SECRET_KEYS=... python -m benchmarks.targets.sagemcp_server
"""

from __future__ import annotations

import sys
from typing import Any

from . import _tuning


def _plain_upstream() -> None:
    import sagemcp_server.app as server_app

    original = server_app.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("upstream_transport") is None:
            kwargs["upstream_transport"] = _tuning.plain_transport()
            print(_tuning.PLAIN_BACKEND_MARKER, flush=True)
        return original(*args, **kwargs)

    server_app.create_app = create_app  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    if _tuning.network_backend() == "httpcore":
        _plain_upstream()
    from sagemcp_server.cli import main as cli

    return cli(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
