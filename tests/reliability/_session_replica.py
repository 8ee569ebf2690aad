"""One replica for the session-routing tests: the reference server with the demo connector and the
conformance fixtures (whose `test_elicitation` and `test_sampling` tools ask the client), configured
from `SAGEMCP_*` like `sagemcp serve` and served by uvicorn on the port given as the only argument.

`python -m tests.reliability._session_replica PORT` (from the repository root).
"""

from __future__ import annotations

import sys

import uvicorn

from sagemcp.platform import ConnectorRegistry
from tests.conformance.connector import ConformanceConnector


def main() -> None:
    from sagemcp_server.app import create_app
    from sagemcp_server.connectors.demo import DemoConnector
    from sagemcp_server.logging import configure_logging
    from sagemcp_server.settings import Settings

    port = int(sys.argv[1])
    settings = Settings(host="127.0.0.1", port=port, auto_migrate=False)
    configure_logging(settings.log_format, "info")
    app = create_app(settings, registry=ConnectorRegistry([DemoConnector, ConformanceConnector]))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )


if __name__ == "__main__":
    main()
