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
- End to end (`sagemcp.testing.e2e`): `with fake_upstream(build_app) as upstream:` (a fake API over real
  HTTP, recording requests), `server_process(...)`, `sagemcp_cli(env, ...)` with `operator_environment()`,
  `async with mcp_client(url, api_key) as client:` (the MCP SDK's client) and `text_of(result)`.
- `FakeAuthorizationServer(token_url, client_id=..., client_secret=..., redirect_uri=...)`: a provider's
  token endpoint for `OAuthFlows(transport=httpx.MockTransport(fake))` (client authentication, PKCE,
  numbered rotating tokens; subclass it for a provider's quirks), and `form_of(request)`.

Needs the `testing` extra (`pip install "sagemcp-core[testing]"`) for vcrpy, jsonschema, PyYAML and
uvicorn. uvicorn is imported when `serve()` is first called, not with this package.
"""

from .calls import ToolCall, call_tool, fake_credential
from .cassettes import scrub_request, scrub_response, scrub_text, vcr_config
from .client import AnsweringClient
from .contract import assert_connector_valid, check_connector
from .discovery import DiscoveryMethod, DiscoveryValidator
from .e2e import (
    FakeUpstream,
    fake_upstream,
    mcp_client,
    operator_environment,
    sagemcp_cli,
    server_process,
    stop_process,
    text_of,
    wait_for_port,
)
from .oauth import FakeAuthorizationServer, form_of
from .openapi import ContractViolation, OpenAPIValidator, Operation, load_description
from .proxy import ForwardProxy, RelayedRequest
from .server import free_port, serve

__all__ = [
    "AnsweringClient",
    "ContractViolation",
    "DiscoveryMethod",
    "DiscoveryValidator",
    "FakeAuthorizationServer",
    "FakeUpstream",
    "ForwardProxy",
    "OpenAPIValidator",
    "Operation",
    "RelayedRequest",
    "ToolCall",
    "assert_connector_valid",
    "call_tool",
    "check_connector",
    "fake_credential",
    "fake_upstream",
    "form_of",
    "free_port",
    "load_description",
    "mcp_client",
    "operator_environment",
    "sagemcp_cli",
    "scrub_request",
    "scrub_response",
    "scrub_text",
    "serve",
    "server_process",
    "stop_process",
    "text_of",
    "vcr_config",
    "wait_for_port",
]
