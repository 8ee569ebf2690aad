"""A canvas's HTML (what Slack serves at the canvas file's `url_private`) as Markdown.

Covers what canvases contain: headings, paragraphs, line breaks, bold / italic /
strike / code, links, code blocks, quotes, bulleted, numbered and check lists, and
simple tables. Anything else contributes its text. Scripts and styles are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_markdown"]

_INLINE = {"b": "**", "strong": "**", "i": "_", "em": "_", "s": "~~", "del": "~~", "strike": "~~"}
_BLOCKS = {"p", "div", "section", "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"script", "style", "head", "title", "template"}
_BLANK_LINES_RE = re.compile(r"\n{3,}")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[tuple[str, list[int]]] = []  # (kind, [counter]) per open list
        self.links: list[str | None] = []
        self.skip = 0
        self.pre = 0
        self.quote = 0
        self.cells = 0

    # -- helpers --------------------------------------------------------------------------

    def _tail(self, n: int = 2) -> str:
        acc = ""
        for part in reversed(self.out):
            acc = part + acc
            if len(acc) >= n:
                break
        return acc[-n:]

    def _newline(self, blank: bool = False) -> None:
        tail = self._tail()
        if not tail:
            return
        if blank and not tail.endswith("\n\n"):
            self.out.append("\n" if tail.endswith("\n") else "\n\n")
        elif not blank and not tail.endswith("\n"):
            self.out.append("\n")
        if self.quote:
            self.out.append("> " * self.quote)

    def _write(self, text: str) -> None:
        if self.skip:
            return
        self.out.append(text)

    # -- parser callbacks -------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _SKIP:
            self.skip += 1
        elif self.skip:
            return
        elif tag in _INLINE:
            self._write(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self._write("`")
        elif tag == "pre":
            self._newline(blank=True)
            self._write("```\n")
            self.pre += 1
        elif tag == "br":
            self._write("\n" if self.pre else "  \n")
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._newline(blank=True)
            self._write("#" * int(tag[1]) + " ")
        elif tag == "tr":
            self._newline()
        elif tag in _BLOCKS:
            self._newline(blank=not self.lists and not self.cells)
        elif tag == "blockquote":
            self.quote += 1
            self._newline(blank=True)
        elif tag in ("ul", "ol"):
            checklist = "checklist" in (attributes.get("class") or "")
            self.lists.append(("check" if checklist else tag, [0]))
            self._newline(blank=len(self.lists) == 1)
        elif tag == "li":
            self._newline()
            kind, counter = self.lists[-1] if self.lists else ("ul", [0])
            indent = "  " * max(0, len(self.lists) - 1)
            if kind == "ol":
                counter[0] += 1
                marker = f"{counter[0]}. "
            elif kind == "check":
                marker = "- [x] " if "checked" in (attributes.get("class") or "") else "- [ ] "
            else:
                marker = "- "
            self._write(indent + marker)
        elif tag == "input" and (attributes.get("type") or "") == "checkbox":
            self._write("[x] " if "checked" in attributes else "[ ] ")
        elif tag == "a":
            self.links.append(attributes.get("href"))
            self._write("[")
        elif tag in ("td", "th"):
            self._write("| " if self.cells == 0 else " | ")
            self.cells += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in _INLINE:
            self._write(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self._write("`")
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._write("\n```")
            self._newline(blank=True)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6") or tag in ("p", "div"):
            self._newline(blank=not self.lists)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newline(blank=True)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newline(blank=not self.lists)
        elif tag == "a":
            href = self.links.pop() if self.links else None
            self._write(f"]({href})" if href else "]")
        elif tag == "tr":
            self._write(" |")
            self.cells = 0
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            self._write(data)
            return
        text = re.sub(r"\s+", " ", data)
        if self._tail(1) in ("", " ", "\n"):
            text = text.lstrip()
        if text:
            self._write(text)


def html_to_markdown(html: str) -> str:
    """Markdown for an HTML document or fragment."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    text = "".join(converter.out)
    lines = [line.rstrip() if not line.endswith("  ") else line for line in text.split("\n")]
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()
