"""`python -m tests.reliability._replica PORT`: one replica of the reference server for the multi-process tests.

It is the operator's application, `sagemcp_server.app.create_app`, configured from the `SAGEMCP_*`
environment (database, schema, key ring, admin key, cache TTL, DB timeout), with the suite's probe
connector in its registry (its OAuth token endpoint from `RELIABILITY_TOKEN_URL`) instead of the
installed connectors. JSON logs go to stderr, where the parent collects them for the secrets scan.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from sagemcp.platform import ConnectorRegistry

from ._support import make_probe_connector


def main() -> None:
    from sagemcp_server.app import create_app
    from sagemcp_server.logging import configure_logging
    from sagemcp_server.settings import Settings

    port = int(sys.argv[1])
    settings = Settings(host="127.0.0.1", port=port, log_format="json", auto_migrate=False)
    configure_logging("json", "info")
    registry = ConnectorRegistry([make_probe_connector(os.environ["RELIABILITY_TOKEN_URL"])])
    app = create_app(settings, registry=registry)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, log_config=None)


if __name__ == "__main__":
    main()
