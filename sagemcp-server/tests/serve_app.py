"""Run the server with the test connectors, as a separate process: `python serve_app.py PORT`.

Settings come from SAGEMCP_* variables; SAGEMCP_TEST_FAKE_BASE points the fake connector at the
fake provider the test runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

from helpers import FakeConnector, TokenOnlyConnector

from sagemcp.platform import ConnectorRegistry
from sagemcp_server.app import create_app
from sagemcp_server.logging import configure_logging
from sagemcp_server.settings import Settings

if __name__ == "__main__":
    port = int(sys.argv[1])
    settings = Settings(port=port)
    configure_logging("json", "info")
    app = create_app(settings, registry=ConnectorRegistry([FakeConnector, TokenOnlyConnector]))
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
