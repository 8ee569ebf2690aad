"""Snippet includes in the docs survive the formatter, and the site check finds any that did not."""

from __future__ import annotations

import re
from pathlib import Path

from docs.check_snippets import MARKER, check, main, markers

DOCS = Path(__file__).resolve().parents[1] / "docs"
CANONICAL = re.compile(r'^-{2,}8<-{2,} "[^"]+"$')


def test_markdown_markers_are_canonical_and_out_of_the_formatters_reach() -> None:
    found = 0
    for page in sorted(DOCS.rglob("*.md")):
        formatting = True
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{page.relative_to(DOCS)}:{number}"
            if line.strip() == "<!-- fmt: off -->":
                formatting = False
            elif line.strip() == "<!-- fmt: on -->":
                formatting = True
            elif MARKER.search(line):
                found += 1
                assert CANONICAL.match(line.strip()), f'{where}: write the marker as --8<-- "path", not {line!r}'
                assert not formatting, f"{where}: put the snippet between <!-- fmt: off --> and <!-- fmt: on -->"
    assert found >= 2  # writing-a-connector.md and embedding.md include their examples


def test_markers_are_found_through_highlighting_and_entities() -> None:
    highlighted = (
        '<pre><code><span class="o">--</span><span class="mi">8</span> <span class="o">&lt;</span> '
        '<span class="o">--</span><span class="s2">"sagemcp-core/examples/weather.py"</span>\n</code></pre>'
    )
    assert markers(highlighted) == ['--8 < --"sagemcp-core/examples/weather.py"']
    assert markers('<p>--8&lt;-- "docs/x.md"</p>') == ['--8<-- "docs/x.md"']
    assert markers("<p>a &lt;-- b, x--8 apples, i -= 8 &lt; -1</p><!-- fmt: off -->") == []


def test_the_site_check_names_each_page(tmp_path: Path, capsys) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "index.html").write_text("<pre><code>class Weather: ...</code></pre>")
    assert check(tmp_path) == []
    assert main([str(tmp_path)]) == 0
    (tmp_path / "broken.html").write_text('<pre><code>--8 &lt; --"a.py"\n</code></pre>')
    assert check(tmp_path) == ["broken.html: unrendered snippet marker '--8 < --\"a.py\"'"]
    assert main([str(tmp_path)]) == 1
    assert "<!-- fmt: off -->" in capsys.readouterr().out
    assert main([str(tmp_path / "missing")]) == 1
