"""`python -m tests.browser._serve [sagemcp serve options]`: the real `sagemcp serve` command, with the fake
`notes` connector (`_fake_provider`) added to the installed connectors, for the browser tests."""

from __future__ import annotations

import sys
from typing import Any

from sagemcp.platform import ConnectorRegistry

from ._fake_provider import NotesConnector


def main() -> None:
    from sagemcp_server import cli

    installed = ConnectorRegistry.from_entry_points.__func__  # type: ignore[attr-defined]

    def with_notes(cls: type[ConnectorRegistry], *args: Any, **kwargs: Any) -> ConnectorRegistry:
        registry: ConnectorRegistry = installed(cls, *args, **kwargs)
        if "notes" not in registry:
            registry.register(NotesConnector)
        return registry

    ConnectorRegistry.from_entry_points = classmethod(with_notes)  # type: ignore[assignment,method-assign]
    sys.exit(cli.main(["serve", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
