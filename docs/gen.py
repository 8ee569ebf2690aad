"""Regenerate the tool lists of the connector pages from the installed connector classes.

`python -m docs.gen` rewrites the section between `<!-- tools:start -->` and
`<!-- tools:end -->` of `docs/connectors/<id>.md` for every installed connector;
`python -m docs.gen --check` exits 1 when a page is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sagemcp.catalog import update_file
from sagemcp.platform import ConnectorRegistry

PAGES = Path(__file__).parent / "connectors"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    registry = ConnectorRegistry.from_entry_points()
    stale = []
    for cls in registry:
        page = PAGES / f"{cls.info.id}.md"
        if page.exists() and not update_file(page, cls, check=check):
            stale.append(page.name)
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run python -m docs.gen")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
