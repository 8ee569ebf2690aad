"""Test helpers for connector authors: contract checks, offline tool calls, cassettes, API descriptions.

- `assert_connector_valid(MyConnector)` / `check_connector`: names, descriptions, schemas,
  annotations, groups, auth schemes, resource URIs, base URL and credential origins, with a fix for each problem.
- `await call_tool(MyConnector, "my_list_things", {...}, handler=...)`: one tool call as the
  platform runs it, against an `httpx.MockTransport`, returning the MCP-visible result and
  every upstream request.
- `vcr_config(cassette_dir)`: vcrpy recording "once" locally and replaying only in CI, with
  credentials scrubbed from headers, query strings and bodies.
- `OpenAPIValidator.from_file(spec).validate_request(request)`: the request is one the
  vendor's OpenAPI 3.x / Swagger 2.0 description allows; `load_description(spec)` parses one
  (a `.json` name is read from `.json.gz` when only that is stored).
- `DiscoveryValidator.from_files(specs).validate_request(request)`: the same for Google's
  Discovery documents, media uploads (multipart, media, resumable sessions) included.
- `async with serve(app) as base_url:`: an ASGI app (core's MCP app, a whole server) under
  uvicorn on 127.0.0.1, in the test's event loop, for tests over real HTTP, SSE and WebSocket.
- `async with ForwardProxy() as proxy:`: a forward HTTP proxy on 127.0.0.1 that records what it
  relays, for tests of outbound proxy settings.

Needs the `testing` extra (`pip install "sagemcp-core[testing]"`) for vcrpy, jsonschema, PyYAML and
uvicorn. uvicorn is imported when `serve()` is first called, not with this package.
"""

from .calls import ToolCall, call_tool, fake_credential
from .cassettes import scrub_request, scrub_response, scrub_text, vcr_config
from .contract import assert_connector_valid, check_connector
from .discovery import DiscoveryMethod, DiscoveryValidator
from .openapi import ContractViolation, OpenAPIValidator, Operation, load_description
from .proxy import ForwardProxy, RelayedRequest
from .server import free_port, serve

__all__ = [
    "ContractViolation",
    "DiscoveryMethod",
    "DiscoveryValidator",
    "ForwardProxy",
    "OpenAPIValidator",
    "Operation",
    "RelayedRequest",
    "ToolCall",
    "assert_connector_valid",
    "call_tool",
    "check_connector",
    "fake_credential",
    "free_port",
    "load_description",
    "scrub_request",
    "scrub_response",
    "scrub_text",
    "serve",
    "vcr_config",
]
