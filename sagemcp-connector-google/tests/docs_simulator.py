"""A small model of a Google Doc's body that applies `batchUpdate` requests, for round-trip tests.

It implements the requests `sagemcp_google._markdown_docs` sends, with the Docs behaviour they rely
on: inserted text takes the style of the character before it; a newline splits its paragraph, both
halves keeping the paragraph's style and bullet; `createParagraphBullets` turns leading tabs into
nesting levels and removes them, and adds the paragraphs to the list of the paragraph just before
them when that list was made with the same preset (else makes a new list); `insertTable` puts a
newline before the table, whose cells each hold one empty paragraph; `insertInlineImage` puts an
image, one index long, inside a paragraph (never at a table's start), keeping the URI it came from as
`sourceUri` and giving it a `contentUri` of its own, without alt text (the request has no field for
it). `document()` returns the body as `documents.get` shows it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

_GLYPHS = {
    "BULLET_DISC_CIRCLE_SQUARE": [{"glyphSymbol": s} for s in "●○■●○■●○■"],
    "NUMBERED_DECIMAL_ALPHA_ROMAN": [{"glyphType": t} for t in ("DECIMAL", "ALPHA", "ROMAN") * 3],
}


_OBJECT = "_inlineObjectId"
"""The key, in a character's style, that makes it an inline image (this model's own, never shown)."""
_IMAGE_CHAR = "\ufffc"


def _u16(char: str) -> int:
    return len(char.encode("utf-16-le")) // 2


@dataclass
class _Paragraph:
    chars: list[tuple[str, dict[str, Any]]]
    style: dict[str, Any] = field(default_factory=lambda: {"namedStyleType": "NORMAL_TEXT"})
    bullet: dict[str, Any] | None = None

    def size(self) -> int:
        return sum(_u16(c) for c, _ in self.chars)


@dataclass
class _Table:
    cells: list[list[list[_Paragraph]]]

    def size(self) -> int:
        return 1 + sum(1 + sum(1 + sum(p.size() for p in cell) for cell in row) for row in self.cells)


class SimulatedDocument:
    """A document body (no headers, one tab) that `batchUpdate` requests edit."""

    def __init__(self) -> None:
        self.body: list[_Paragraph | _Table] = [_Paragraph([("\n", {})])]
        self.lists: dict[str, Any] = {}
        self.presets: dict[str, str] = {}
        self.inline_objects: dict[str, Any] = {}

    # -- addressing ----------------------------------------------------------------------

    def _paragraphs(self) -> list[tuple[int, _Paragraph, list[_Paragraph | _Table]]]:
        """Every paragraph with its start index and the list holding it."""
        found: list[tuple[int, _Paragraph, list[_Paragraph | _Table]]] = []
        index = 1

        def walk(items: list[Any], start: int) -> int:
            at = start
            for item in items:
                if isinstance(item, _Paragraph):
                    found.append((at, item, items))
                    at += item.size()
                else:
                    at += 1
                    for row in item.cells:
                        at += 1
                        for cell in row:
                            at += 1
                            at = walk(cell, at)
            return at

        walk(self.body, index)
        return found

    def _locate(self, index: int) -> tuple[int, _Paragraph, list[Any]]:
        for start, paragraph, owner in self._paragraphs():
            if start <= index < start + paragraph.size():
                return start, paragraph, owner
        raise AssertionError(f"index {index} is not inside a paragraph")

    @staticmethod
    def _offset(paragraph: _Paragraph, units: int) -> int:
        """The position in `paragraph.chars` of the character `units` UTF-16 units from its start."""
        seen = 0
        for position, (char, _) in enumerate(paragraph.chars):
            if seen >= units:
                return position
            seen += _u16(char)
        return len(paragraph.chars)

    def _chars_in(self, start: int, end: int) -> list[tuple[_Paragraph, int]]:
        out = []
        for p_start, paragraph, _ in self._paragraphs():
            at = p_start
            for position, (char, _) in enumerate(paragraph.chars):
                if start <= at < end:
                    out.append((paragraph, position))
                at += _u16(char)
        return out

    def _paragraphs_in(self, start: int, end: int) -> list[_Paragraph]:
        return [p for s, p, _ in self._paragraphs() if s < end and s + p.size() > start]

    # -- requests ------------------------------------------------------------------------

    def apply(self, requests: list[dict[str, Any]]) -> None:
        for request in requests:
            ((kind, spec),) = request.items()
            getattr(self, kind)(spec)

    def insertText(self, spec: dict[str, Any]) -> None:
        self._insert(spec["location"]["index"], spec["text"])

    def _insert(self, index: int, text: str) -> None:
        start, paragraph, owner = self._locate(index)
        position = self._offset(paragraph, index - start)
        inherited = dict(paragraph.chars[position - 1][1]) if position > 0 else dict(paragraph.chars[position][1])
        inherited.pop(_OBJECT, None)  # text typed after an image is text
        new = [(char, dict(inherited)) for char in text]
        chars = paragraph.chars[:position] + new + paragraph.chars[position:]
        pieces: list[list[tuple[str, dict[str, Any]]]] = [[]]
        for item in chars:
            pieces[-1].append(item)
            if item[0] == "\n":
                pieces.append([])
        pieces = [p for p in pieces if p]
        replacement = [
            _Paragraph(piece, copy.deepcopy(paragraph.style), copy.deepcopy(paragraph.bullet)) for piece in pieces
        ]
        at = next(i for i, item in enumerate(owner) if item is paragraph)
        owner[at : at + 1] = replacement

    def updateParagraphStyle(self, spec: dict[str, Any]) -> None:
        rng, style = spec["range"], spec["paragraphStyle"]
        for paragraph in self._paragraphs_in(rng["startIndex"], rng["endIndex"]):
            for name in spec["fields"].split(","):
                if name in style:
                    paragraph.style[name] = copy.deepcopy(style[name])
                else:
                    paragraph.style.pop(name, None)
            paragraph.style.setdefault("namedStyleType", "NORMAL_TEXT")

    def updateTextStyle(self, spec: dict[str, Any]) -> None:
        rng, style = spec["range"], spec["textStyle"]
        for paragraph, position in self._chars_in(rng["startIndex"], rng["endIndex"]):
            _, current = paragraph.chars[position]
            for name in spec["fields"].split(","):
                if name in style:
                    current[name] = copy.deepcopy(style[name])
                else:
                    current.pop(name, None)

    def deleteParagraphBullets(self, spec: dict[str, Any]) -> None:
        for paragraph in self._paragraphs_in(spec["range"]["startIndex"], spec["range"]["endIndex"]):
            paragraph.bullet = None

    def createParagraphBullets(self, spec: dict[str, Any]) -> None:
        preset = spec["bulletPreset"]
        targets = self._paragraphs_in(spec["range"]["startIndex"], spec["range"]["endIndex"])
        before = self._paragraph_before(targets[0]) if targets else None
        joined = before.bullet["listId"] if before is not None and before.bullet else None
        if joined is not None and self.presets.get(joined) == preset:
            list_id = joined
        else:
            list_id = f"kix.list{len(self.lists) + 1}"
            self.lists[list_id] = {"listProperties": {"nestingLevels": _GLYPHS[preset]}}
            self.presets[list_id] = preset
        for paragraph in targets:
            level = 0
            while paragraph.chars and paragraph.chars[0][0] == "\t":
                paragraph.chars.pop(0)
                level += 1
            paragraph.bullet = {"listId": list_id, "nestingLevel": level}

    def _paragraph_before(self, paragraph: _Paragraph) -> _Paragraph | None:
        """The paragraph right before `paragraph` in its part of the document (None after a table, or first)."""
        for _, found, owner in self._paragraphs():
            if found is paragraph:
                at = next(i for i, item in enumerate(owner) if item is paragraph)
                previous = owner[at - 1] if at > 0 else None
                return previous if isinstance(previous, _Paragraph) else None
        return None

    def insertInlineImage(self, spec: dict[str, Any]) -> None:
        index = spec["location"]["index"]
        start, paragraph, _ = self._locate(index)
        position = self._offset(paragraph, index - start)
        object_id = f"kix.image{len(self.inline_objects) + 1}"
        self.inline_objects[object_id] = {
            "objectId": object_id,
            "inlineObjectProperties": {
                "embeddedObject": {
                    "imageProperties": {
                        "contentUri": f"https://lh7-rt.googleusercontent.com/docsz/{object_id}",
                        "sourceUri": spec["uri"],
                    },
                    "size": {"width": {"magnitude": 200, "unit": "PT"}, "height": {"magnitude": 100, "unit": "PT"}},
                }
            },
        }
        style = dict(paragraph.chars[position - 1][1]) if position > 0 else {}
        style.pop(_OBJECT, None)
        paragraph.chars.insert(position, (_IMAGE_CHAR, {**style, _OBJECT: object_id}))

    def insertTable(self, spec: dict[str, Any]) -> None:
        index = spec["location"]["index"]
        self._insert(index, "\n")
        _, paragraph, owner = self._locate(index)
        at = next(i for i, item in enumerate(owner) if item is paragraph)
        cells = [[[_Paragraph([("\n", {})])] for _ in range(spec["columns"])] for _ in range(spec["rows"])]
        owner.insert(at + 1, _Table(cells))

    # -- reading -------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The body as `documents.get` shows it (indexes included)."""
        content: list[dict[str, Any]] = [{"endIndex": 1, "sectionBreak": {"sectionStyle": {}}}]

        def paragraph_json(paragraph: _Paragraph, start: int) -> tuple[dict[str, Any], int]:
            elements: list[dict[str, Any]] = []
            at = start
            run_text, run_style, run_start = "", None, start

            def close_run() -> None:
                if run_style is not None and run_text:
                    elements.append(
                        {
                            "startIndex": run_start,
                            "endIndex": at,
                            "textRun": {"content": run_text, "textStyle": run_style},
                        }
                    )

            for char, style in paragraph.chars:
                if _OBJECT in style:
                    close_run()
                    text_style = {k: v for k, v in style.items() if k != _OBJECT}
                    elements.append(
                        {
                            "startIndex": at,
                            "endIndex": at + 1,
                            "inlineObjectElement": {"inlineObjectId": style[_OBJECT], "textStyle": text_style},
                        }
                    )
                    at += 1
                    run_text, run_style, run_start = "", None, at
                    continue
                if run_style is not None and style != run_style:
                    close_run()
                    run_text, run_start = "", at
                run_text += char
                run_style = style
                at += _u16(char)
            close_run()
            found: dict[str, Any] = {"elements": elements, "paragraphStyle": copy.deepcopy(paragraph.style)}
            if paragraph.bullet:
                found["bullet"] = dict(paragraph.bullet)
            return {"startIndex": start, "endIndex": at, "paragraph": found}, at

        def walk(items: list[Any], start: int) -> tuple[list[dict[str, Any]], int]:
            out = []
            at = start
            for item in items:
                if isinstance(item, _Paragraph):
                    element, at = paragraph_json(item, at)
                    out.append(element)
                    continue
                table_start = at
                at += 1
                rows = []
                for row in item.cells:
                    row_start = at
                    at += 1
                    cells = []
                    for cell in row:
                        cell_start = at
                        at += 1
                        inner, at = walk(cell, at)
                        cells.append({"startIndex": cell_start, "endIndex": at, "content": inner})
                    rows.append({"startIndex": row_start, "endIndex": at, "tableCells": cells})
                out.append(
                    {
                        "startIndex": table_start,
                        "endIndex": at,
                        "table": {"rows": len(rows), "columns": len(item.cells[0]), "tableRows": rows},
                    }
                )
            return out, at

        body, _ = walk(self.body, 1)
        return {
            "documentId": "simulated",
            "title": "Simulated",
            "body": {"content": content + body},
            "lists": copy.deepcopy(self.lists),
            "inlineObjects": copy.deepcopy(self.inline_objects),
        }
