"""Fail when a pymdownx snippet marker reached the built site instead of the file it names.

    python -m docs.check_snippets [site]

A marker (`--8<-- "path"`) left in a page means the include did not happen: most often a
formatter read it as Python inside a ```python fence and rewrote it (`--8 < --"path"`), which
pymdownx no longer recognises. The markdown sources keep their markers in `<!-- fmt: off -->`
regions for that reason. Markup is stripped and entities decoded before matching, so markers
split over highlighting spans are found too.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

MARKER = re.compile(r"-{2,}[ \t]*8[ \t]*<[ \t]*-{2,}")
"""A snippet marker, canonical (`--8<--`) or with the spaces a formatter puts in (`--8 < --`)."""
_TAG = re.compile(r"<[^>]*>")


def markers(page: str) -> list[str]:
    """The lines of an HTML page that still hold a snippet marker, as text."""
    text = html.unescape(_TAG.sub("", page))
    return [line.strip() for line in text.splitlines() if MARKER.search(line)]


def check(site: Path) -> list[str]:
    """One problem per page line holding a marker, naming the page."""
    problems = []
    for page in sorted(site.rglob("*.html")):
        for line in markers(page.read_text(encoding="utf-8")):
            problems.append(f"{page.relative_to(site)}: unrendered snippet marker {line!r}")
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else "site")
    if not any(site.rglob("*.html")):
        print(f"no HTML pages under {site}: run `mkdocs build` first")
        return 1
    problems = check(site)
    for problem in problems:
        print(problem)
    if problems:
        print(
            'restore each marker to `--8<-- "path"` and keep it between `<!-- fmt: off -->` and '
            "`<!-- fmt: on -->` in the markdown source, so the formatter leaves it alone"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
