"""Notion blocks ↔ Markdown, both ways, with round trips on recorded and derived block samples.

A round trip reads blocks as Notion returns them, renders them as Markdown, parses that
Markdown back into block requests, and compares with the request that would recreate the
original blocks. What the Markdown cannot hold (colours, a bookmark's kind, a child page,
a breadcrumb) is spelled out in `expected`, so each loss is a decision a test states.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from notion_support import fixture_body

from sagemcp_notion._blocks import BlockNode, parse_markdown, render_blocks
from sagemcp_notion._richtext import MAX_TEXT_CHARS, inline_markdown, rich_text_from_markdown

_MARKS = ("bold", "italic", "strikethrough", "underline", "code")


def request_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rich-text response items as the request items that recreate them (colours are not kept)."""
    out: list[dict[str, Any]] = []
    for item in items:
        marks = {m: True for m in _MARKS if item.get("annotations", {}).get(m)}
        if item["type"] == "text":
            text: dict[str, Any] = {"content": item["text"]["content"]}
            if item["text"].get("link"):
                text["link"] = {"url": item["text"]["link"]["url"]}
            new: dict[str, Any] = {"type": "text", "text": text, **({"annotations": marks} if marks else {})}
            last = out[-1] if out else None
            if (
                last
                and last["type"] == "text"
                and last.get("annotations") == new.get("annotations")
                and last["text"].get("link") == text.get("link")
            ):
                last["text"]["content"] += text["content"]
                continue
            out.append(new)
        elif item["type"] == "equation":
            out.append({"type": "equation", "equation": {"expression": item["equation"]["expression"]}})
        elif item["type"] == "mention":
            mention = item["mention"]
            data = {k: v for k, v in mention[mention["type"]].items() if v is not None}
            out.append({"type": "mention", "mention": {"type": mention["type"], mention["type"]: data}})
    return out


def expected(block: dict[str, Any], children: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The block request that the Markdown of `block` should parse into (None: nothing, by design)."""
    kind = block["type"]
    data = block[kind]
    payload: dict[str, Any]
    if kind in ("paragraph", "bulleted_list_item", "numbered_list_item", "toggle", "quote"):
        payload = {"rich_text": request_items(data["rich_text"])}
    elif kind.startswith("heading_"):
        payload = {"rich_text": request_items(data["rich_text"])}
        if data.get("is_toggleable"):
            payload["is_toggleable"] = True
    elif kind == "to_do":
        payload = {"rich_text": request_items(data["rich_text"]), "checked": data["checked"]}
    elif kind == "callout":
        payload = {
            "rich_text": request_items(data["rich_text"]),
            "icon": {"type": "emoji", "emoji": data["icon"]["emoji"]},
        }
    elif kind == "code":
        payload = {"rich_text": request_items(data["rich_text"]), "language": data["language"]}
    elif kind == "equation":
        payload = {"expression": data["expression"]}
    elif kind == "divider":
        payload = {}
    elif kind == "table":
        payload = {"table_width": data["table_width"], "has_column_header": True, "has_row_header": False}
    elif kind == "table_row":
        payload = {"cells": [request_items(cell) for cell in data["cells"]]}
    elif kind == "image":
        payload = {"type": "external", "external": {"url": data["external"]["url"]}}
        if data["caption"]:
            payload["caption"] = request_items(data["caption"])
    elif kind == "bookmark":
        # A bookmark reads as its link; written back, it is a paragraph holding that link.
        url = data["url"]
        return {
            "object": "block",
            "type": "paragraph",
            "paragraph": {"rich_text": [{"type": "text", "text": {"content": url, "link": {"url": url}}}]},
        }
    elif kind == "child_page":
        # A sub-page reads as a link to it; written back, that is a link, not a second page.
        url = f"https://www.notion.so/{block['id'].replace('-', '')}"
        rich = [
            {"type": "text", "text": {"content": "📄 "}},
            {"type": "text", "text": {"content": data["title"], "link": {"url": url}}},
        ]
        return {"object": "block", "type": "paragraph", "paragraph": {"rich_text": rich}}
    else:
        return None  # named as <unsupported …/>, skipped when written
    if children:
        payload["children"] = children
    return {"object": "block", "type": kind, kind: payload}


def tree_of(
    top: list[dict[str, Any]], nested: dict[str, dict[str, Any]]
) -> tuple[list[BlockNode], list[dict[str, Any]]]:
    """Read nodes and their expected requests, children from `nested` (block id -> children listing)."""
    nodes: list[BlockNode] = []
    wanted: list[dict[str, Any]] = []
    for block in top:
        children = nested.get(block["id"], {}).get("results", []) if block.get("has_children") else []
        child_nodes, child_wanted = tree_of(children, nested)
        nodes.append(BlockNode(block, child_nodes))
        made = expected(block, child_wanted)
        if made is not None:
            wanted.append(made)
    return nodes, wanted


def rich_page() -> tuple[list[BlockNode], list[dict[str, Any]]]:
    top = fixture_body("get-block-children.page-1")["results"] + fixture_body("get-block-children.page-2")["results"]
    return tree_of(top, fixture_body("get-block-children.nested"))


def test_the_100_block_page_round_trips() -> None:
    nodes, wanted = rich_page()
    markdown = render_blocks(nodes)
    parsed = parse_markdown(markdown)
    assert [block.request(9) for block in parsed.blocks] == wanted
    assert parsed.skipped == ['<unsupported block="breadcrumb" id="393abc1e-edcd-8000-8000-000000000062"/>']


@pytest.mark.parametrize(
    "name",
    ["retrieve-a-block", "retrieve-a-block.equation", "update-a-block", "delete-a-block"],
)
def test_recorded_blocks_round_trip(name: str) -> None:
    block = fixture_body(name)
    nodes, wanted = tree_of([block], {})
    markdown = render_blocks(nodes)
    assert [b.request(9) for b in parse_markdown(markdown).blocks] == wanted


def test_recorded_blocks_render_as_expected() -> None:
    assert render_blocks([BlockNode(fixture_body("retrieve-a-block"))]) == '<mention-date start="2022-12-16"/>'
    assert render_blocks([BlockNode(fixture_body("retrieve-a-block.equation"))]) == "$E = mc^2$"
    assert render_blocks([BlockNode(fixture_body("update-a-block"))]) == "**I'm an updated paragraph.**"
    assert render_blocks([BlockNode(fixture_body("delete-a-block"))]) == "**I'm an updated paragraph.**"


def test_every_construct_becomes_its_block() -> None:
    markdown = """# One

## Two

### Three

#### Four is three

Text with **bold**, *italic*, ~~strike~~, `code`, <u>under</u>, [a link](https://example.com) and $e^x$.

- bullet
  1. nested number
- [x] done
- [ ] open

> quoted
>
> - inside the quote

<details>
<summary>Toggle</summary>

inside

</details>

<details>
<summary>## Toggle heading</summary>
</details>

<aside icon="⚠️">Careful</aside>

```ts
let x = 1
```

$$
\\int x
$$

---

![alt text](https://example.com/a.png)

| h1 | h2 | h3 |
| --- | --- | --- |
| a | b |
"""
    blocks = [b.request(9) for b in parse_markdown(markdown).blocks]
    types = [b["type"] for b in blocks]
    assert types == [
        "heading_1", "heading_2", "heading_3", "heading_3", "paragraph", "bulleted_list_item", "to_do", "to_do",
        "quote", "toggle", "heading_2", "callout", "code", "equation", "divider", "image", "table",
    ]  # fmt: skip
    rich = blocks[4]["paragraph"]["rich_text"]
    assert {"type": "text", "text": {"content": "bold"}, "annotations": {"bold": True}} in rich
    assert {"type": "text", "text": {"content": "under"}, "annotations": {"underline": True}} in rich
    assert {"type": "text", "text": {"content": "a link", "link": {"url": "https://example.com"}}} in rich
    assert {"type": "equation", "equation": {"expression": "e^x"}} in rich
    assert blocks[5]["bulleted_list_item"]["children"][0]["type"] == "numbered_list_item"
    assert blocks[6]["to_do"]["checked"] is True and blocks[7]["to_do"]["checked"] is False
    assert blocks[8]["quote"]["children"][0]["type"] == "bulleted_list_item"
    assert blocks[10]["heading_2"]["is_toggleable"] is True
    assert blocks[11]["callout"]["icon"] == {"type": "emoji", "emoji": "⚠️"}
    assert blocks[12]["code"]["language"] == "typescript"
    assert blocks[13]["equation"]["expression"] == "\\int x"
    table = blocks[16]["table"]
    assert table["table_width"] == 3
    assert [len(row["table_row"]["cells"]) for row in table["children"]] == [3, 3]


@pytest.mark.parametrize(
    "text",
    [
        "costs $5 and $10",
        "a * b _c_ [d] <e> `f` ~g~ \\h",
        "# not a heading",
        "1. not a list",
        "- not a bullet",
        "snake_case_name and __dunder__",
        "&amp; stays literal",
        "multi\nline\n# text",
        "tab | pipe",
    ],
)
def test_plain_text_survives_the_round_trip(text: str) -> None:
    item = {"type": "text", "text": {"content": text}, "plain_text": text, "annotations": {}}
    markdown = inline_markdown([item])
    assert rich_text_from_markdown(markdown) == [{"type": "text", "text": {"content": text}}]


def test_overlapping_marks_nest_properly() -> None:
    items = [
        {"type": "text", "text": {"content": "bold "}, "annotations": {"bold": True}},
        {"type": "text", "text": {"content": "both"}, "annotations": {"bold": True, "italic": True}},
        {"type": "text", "text": {"content": " plain"}, "annotations": {}},
        {"type": "text", "text": {"content": "a`b"}, "annotations": {"code": True}},
    ]
    markdown = inline_markdown(items)
    assert markdown == "**bold *both*** plain``a`b``"
    assert rich_text_from_markdown(markdown) == [
        {"type": "text", "text": {"content": "bold "}, "annotations": {"bold": True}},
        {"type": "text", "text": {"content": "both"}, "annotations": {"bold": True, "italic": True}},
        {"type": "text", "text": {"content": " plain"}},
        {"type": "text", "text": {"content": "a`b"}, "annotations": {"code": True}},
    ]


def test_mentions_round_trip_and_relative_links_stay_text() -> None:
    page = "01234567-89ab-cdef-0123-456789abcdef"
    markdown = (
        f'<mention-page url="https://www.notion.so/{page.replace("-", "")}">Plan</mention-page> '
        f'<mention-user url="user://{page}">Ann</mention-user> <mention-date start="2026-01-05" end="2026-01-09"/> '
        "[intro](#intro)"
    )
    assert rich_text_from_markdown(markdown) == [
        {"type": "mention", "mention": {"type": "page", "page": {"id": page}}},
        {"type": "text", "text": {"content": " "}},
        {"type": "mention", "mention": {"type": "user", "user": {"id": page}}},
        {"type": "text", "text": {"content": " "}},
        {"type": "mention", "mention": {"type": "date", "date": {"start": "2026-01-05", "end": "2026-01-09"}}},
        {"type": "text", "text": {"content": " intro"}},
    ]


def test_long_text_is_cut_into_items_notion_accepts() -> None:
    text = "word " * 1000
    items = rich_text_from_markdown(text.strip())
    assert len(items) == 3
    assert all(len(item["text"]["content"]) <= MAX_TEXT_CHARS for item in items)
    assert "".join(item["text"]["content"] for item in items) == text.strip()


def test_unknown_html_is_kept_as_text_and_unsupported_markers_are_reported() -> None:
    parsed = parse_markdown('<div>kept</div>\n\n<unsupported block="ai_block" id="x"/>')
    assert [b.request() for b in parsed.blocks] == [
        {
            "object": "block",
            "type": "paragraph",
            "paragraph": {"rich_text": [{"type": "text", "text": {"content": "<div>kept</div>"}}]},
        }
    ]
    assert parsed.skipped == ['<unsupported block="ai_block" id="x"/>']


def test_unsupported_blocks_are_named_and_cut_children_are_marked() -> None:
    unknown = {"object": "block", "id": "b1", "type": "ai_block", "ai_block": {}, "has_children": False}
    toggle = {"object": "block", "id": "t1", "type": "toggle", "has_children": True, "toggle": {"rich_text": []}}
    markdown = render_blocks([BlockNode(unknown), BlockNode(toggle, children_cut=True)])
    assert '<unsupported block="ai_block" id="b1"/>' in markdown
    assert (
        "…[truncated: nested blocks not shown; call notion_get_page_content with page_id=t1 to read them]" in markdown
    )


def test_budget_a_100_block_page_is_under_a_quarter_of_the_raw_bytes() -> None:
    raw = sum(
        len(json.dumps(fixture_body(name)))
        for name in ("get-block-children.page-1", "get-block-children.page-2", "get-block-children.nested")
    )
    nodes, _ = rich_page()
    markdown = render_blocks(nodes)
    assert sum(1 for _ in _walk(nodes)) == 100
    assert len(markdown.encode()) * 4 < raw, (len(markdown.encode()), raw)


def _walk(nodes: list[BlockNode]) -> Any:
    for node in nodes:
        yield node
        yield from _walk(node.children)
