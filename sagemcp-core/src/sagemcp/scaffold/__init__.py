"""A new connector package in one command: the standard layout, entry point, tests and README.

    python -m sagemcp.scaffold zoom --title Zoom --base-url https://api.zoom.us/v2 --auth client_credentials oauth2

creates `DIR/sagemcp-connector-zoom/` (`--dest DIR`, the current directory by default; an existing
directory is never overwritten):

```
pyproject.toml          hatchling, the `sagemcp.connectors` entry point, the version in one place
README.md               install, authentication, configuration, connecting a tenant, the tools, limitations
src/sagemcp_zoom/
  __init__.py  py.typed
  connector.py          the Connector class: info, auth schemes, Config, base URL
  models.py             result models converted from the API's JSON with `from_api`, rendered as Markdown
  tools/items.py        one group: a read tool and a list tool (`limit` / `cursor`)
tests/
  test_contract.py      core's contract checks, the entry point, every request against the API description
  test_tools_items.py   the requests the tools send and the results a model sees
  test_e2e.py           the official MCP client over Streamable HTTP, through core's MCP app under uvicorn
  test_docs.py          the README's tool reference is current
  zoom_support.py       the description, and a fake API answering from its examples
  zoom_cases.py         representative arguments for every tool
```

The tests check the requests against the vendor's description in `DIR/specs/<id>/` when the
repository has one (a `--spec` file there, or the best one found), and against a small example
description generated into `tests/openapi.json` otherwise. The generated package passes the
repository's ruff and mypy (strict) settings, and its tests pass as generated.
"""

from ._description import example_description
from ._plan import AUTH_KINDS, ConnectorPlan, find_description, plan
from ._write import create_connector, next_steps, write_package

__all__ = [
    "AUTH_KINDS",
    "ConnectorPlan",
    "create_connector",
    "example_description",
    "find_description",
    "next_steps",
    "plan",
    "write_package",
]
