"""A real sagemcp server for the official MCP conformance suite.

`python -m tests.conformance.server --port N` serves, on 127.0.0.1:N, the multi-tenant
MCP app with one tenant, `conformance`, whose connector `test` (a `ConformanceConnector`)
answers at `/api/v1/conformance/connectors/test/mcp` and, tenant-wide, at
`/api/v1/conformance/mcp` — the same routes and the same adapter as production, mounted
the way the platform server mounts it. A second connector, `json-schema` (a `JsonSchemaConnector`),
serves the JSON Schema 2020-12 fixture on the tenant-wide endpoint.

Settings: stateful sessions answering with SSE streams (the suite sends sampling and
elicitation requests back to the client and expects progress and log notifications
during a call), an in-memory event store so SSE streams carry event ids and can be
resumed with `Last-Event-ID`, and DNS-rebinding protection for the local bind.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator

import uvicorn
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage
from starlette.applications import Starlette
from starlette.routing import Mount

from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant

from .connector import ConformanceConnector, JsonSchemaConnector

TENANT = "conformance"
CONNECTOR = "test"
MOUNT = "/api/v1"
PATH = f"{MOUNT}/{TENANT}/connectors/{CONNECTOR}/mcp"
WIDE_PATH = f"{MOUNT}/{TENANT}/mcp"
"""The tenant-wide endpoint: every connector of the tenant (here one) behind one URL."""
RETRY_MS = 1000
"""The reconnection delay the server suggests to clients in its SSE priming events."""


class InMemoryEventStore(EventStore):
    """Keeps the last `max_events` SSE events of every stream, so a client can resume with `Last-Event-ID`.

    Only for tests and single-process servers: events live in this process's memory.
    """

    def __init__(self, max_events: int = 10_000) -> None:
        self.max_events = max_events
        self._events: OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None]] = OrderedDict()
        self._ids = itertools.count(1)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = str(next(self._ids))
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self.max_events:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        found = self._events.get(last_event_id)
        if found is None:
            return None
        stream_id = found[0]
        after = False
        # Copy first: sending yields to other tasks, which may store events meanwhile.
        for event_id, (sid, message) in list(self._events.items()):
            if event_id == last_event_id:
                after = True
            elif after and sid == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


def build_app(port: int) -> Starlette:
    """The platform-style host app: the MCP app mounted under `/api/v1`, its lifespan entered by the host."""
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug=TENANT, name="MCP conformance"))
    store.add_connector(
        ConnectorConfig(tenant_id=tenant.id, connector_type=ConformanceConnector.info.id, name=CONNECTOR)
    )
    # The JSON Schema 2020-12 fixture: another connector type, so the tenant-wide names stay unprefixed.
    store.add_connector(
        ConnectorConfig(tenant_id=tenant.id, connector_type=JsonSchemaConnector.info.id, name="json-schema")
    )
    registry = ConnectorRegistry([ConformanceConnector, JsonSchemaConnector])
    settings = McpSettings.for_local_bind(
        port,
        stateful=True,
        json_response=False,
        event_store=InMemoryEventStore(),
        retry_interval=RETRY_MS,
    )
    # The conformance suite sends no credentials, so callers are let in anonymously. That is acceptable
    # only because this server binds to 127.0.0.1 and checks Host/Origin against that bind.
    mcp_app = create_mcp_app(store, registry, allow_anonymous=True, settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # A mounted app's own lifespan does not run: the host enters it (it runs the session manager).
        async with mcp_app.lifespan():
            yield

    return Starlette(routes=[Mount(MOUNT, app=mcp_app)], lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the MCP conformance connector on 127.0.0.1.")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default: warning)")
    args = parser.parse_args(argv)
    uvicorn.run(build_app(args.port), host="127.0.0.1", port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
