"""Rich text both ways: Atlassian Document Format <-> Markdown (Cloud) and wiki markup <-> Markdown (Data Center).

Samples: every ADF document in Atlassian's platform description (request and response examples), and
ADF documents written after Atlassian's ADF reference
(https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/, its node pages), covering
headings, lists, code, tables, links, mentions, panels and the inline nodes.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from jira_support import Descriptions

from sagemcp_jira._adf import adf_to_markdown, markdown_parser, markdown_to_adf, plain_text
from sagemcp_jira._wiki import markdown_to_wiki, wiki_to_markdown


def _description_docs(document: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "doc" and isinstance(node.get("content"), list):
                found.append(node)
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and '"type":"doc"' in node.replace(" ", ""):
            with contextlib.suppress(ValueError):
                walk(json.loads(node))

    walk(document)
    unique = {json.dumps(doc, sort_keys=True): doc for doc in found}
    return list(unique.values())


def test_every_adf_sample_of_the_description_round_trips(jira_descriptions: Descriptions) -> None:
    samples = _description_docs(jira_descriptions.platform.document)
    assert len(samples) >= 10
    for doc in samples:
        markdown = adf_to_markdown(doc)
        assert markdown.strip(), doc
        assert plain_text(doc) in markdown.replace("\n", " ") or plain_text(doc).replace("  ", " ") in markdown
        again = markdown_to_adf(markdown)
        assert adf_to_markdown(again) == markdown
        assert _normalised(again) == _normalised(doc), markdown


def _normalised(doc: dict[str, Any]) -> Any:
    """The document as the connector writes it: version 1, no empty attrs, adjacent texts merged."""
    return json.loads(json.dumps(markdown_to_adf(adf_to_markdown(doc))))


MENTION = {"type": "mention", "attrs": {"id": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "text": "@Ada Lovelace"}}
RICH_DOC: dict[str, Any] = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Release plan"}]},
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "Ship "},
                {"type": "text", "text": "2.4", "marks": [{"type": "strong"}]},
                {"type": "text", "text": " with "},
                {"type": "text", "text": "care", "marks": [{"type": "em"}]},
                {"type": "text", "text": ", not "},
                {"type": "text", "text": "haste", "marks": [{"type": "strike"}]},
                {"type": "text", "text": "; run "},
                {"type": "text", "text": "make release", "marks": [{"type": "code"}]},
                {"type": "text", "text": ", see "},
                {
                    "type": "text",
                    "text": "the guide",
                    "marks": [{"type": "link", "attrs": {"href": "https://example.com/guide"}}],
                },
                {"type": "text", "text": " and ask "},
                MENTION,
                {"type": "text", "text": "."},
                {"type": "hardBreak"},
                {"type": "text", "text": "snake_case and 2 * 3 stay text."},
            ],
        },
        {
            "type": "bulletList",
            "content": [
                {
                    "type": "listItem",
                    "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": "Backend"}]},
                        {
                            "type": "orderedList",
                            "attrs": {"order": 1},
                            "content": [
                                {
                                    "type": "listItem",
                                    "content": [
                                        {"type": "paragraph", "content": [{"type": "text", "text": "migrate"}]}
                                    ],
                                },
                                {
                                    "type": "listItem",
                                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "deploy"}]}],
                                },
                            ],
                        },
                    ],
                },
                {
                    "type": "listItem",
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Frontend"}]}],
                },
            ],
        },
        {
            "type": "codeBlock",
            "attrs": {"language": "python"},
            "content": [{"type": "text", "text": "def ship():\n    return True"}],
        },
        {"type": "blockquote", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Quoted"}]}]},
        {"type": "rule"},
        {
            "type": "table",
            "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
            "content": [
                {
                    "type": "tableRow",
                    "content": [
                        {
                            "type": "tableHeader",
                            "attrs": {},
                            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Key"}]}],
                        },
                        {
                            "type": "tableHeader",
                            "attrs": {},
                            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "State"}]}],
                        },
                    ],
                },
                {
                    "type": "tableRow",
                    "content": [
                        {
                            "type": "tableCell",
                            "attrs": {},
                            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "EX-1"}]}],
                        },
                        {
                            "type": "tableCell",
                            "attrs": {},
                            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a | b"}]}],
                        },
                    ],
                },
            ],
        },
    ],
}


def test_a_rich_document_reads_as_markdown() -> None:
    markdown = adf_to_markdown(RICH_DOC)
    assert markdown == (
        "## Release plan\n\n"
        "Ship **2.4** with *care*, not ~~haste~~; run `make release`, see [the guide](https://example.com/guide) "
        "and ask [@Ada Lovelace](mention:557058:f58131cb-b67d-43c7-b30d-6b58d40bd077).\n"
        "snake_case and 2 \\* 3 stay text.\n\n"
        "- Backend\n  1. migrate\n  2. deploy\n- Frontend\n\n"
        "```python\ndef ship():\n    return True\n```\n\n"
        "> Quoted\n\n"
        "---\n\n"
        "| Key | State |\n| --- | --- |\n| EX-1 | a \\| b |"
    )


def test_a_rich_document_round_trips_both_ways() -> None:
    markdown = adf_to_markdown(RICH_DOC)
    assert markdown_to_adf(markdown) == RICH_DOC
    assert adf_to_markdown(markdown_to_adf(markdown)) == markdown


def test_a_mention_keeps_its_account_id_both_ways() -> None:
    doc = markdown_to_adf("Thanks [@Ada Lovelace](mention:557058:abc)!")
    assert doc["content"][0]["content"][1] == {
        "type": "mention",
        "attrs": {"id": "557058:abc", "text": "@Ada Lovelace"},
    }
    assert plain_text(doc) == "Thanks @Ada Lovelace!"


def test_nodes_markdown_lacks_are_kept_as_text() -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "panel",
                "attrs": {"panelType": "warning"},
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Careful"}]}],
            },
            {
                "type": "taskList",
                "attrs": {"localId": "t"},
                "content": [
                    {
                        "type": "taskItem",
                        "attrs": {"localId": "1", "state": "DONE"},
                        "content": [{"type": "text", "text": "done"}],
                    },
                    {
                        "type": "taskItem",
                        "attrs": {"localId": "2", "state": "TODO"},
                        "content": [{"type": "text", "text": "todo"}],
                    },
                ],
            },
            {
                "type": "paragraph",
                "content": [
                    {"type": "emoji", "attrs": {"shortName": ":tada:", "text": "🎉"}},
                    {"type": "text", "text": " on "},
                    {"type": "date", "attrs": {"timestamp": "1714521600000"}},
                    {"type": "text", "text": " "},
                    {"type": "status", "attrs": {"text": "IN PROGRESS", "color": "blue"}},
                    {"type": "text", "text": " "},
                    {"type": "inlineCard", "attrs": {"url": "https://example.com/card"}},
                ],
            },
            {
                "type": "expand",
                "attrs": {"title": "Details"},
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hidden"}]}],
            },
            {
                "type": "mediaSingle",
                "content": [
                    {
                        "type": "media",
                        "attrs": {"type": "file", "id": "abc-123", "collection": "c", "alt": "screen.png"},
                    }
                ],
            },
            {
                "type": "someFutureNode",
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "still here"}]}],
            },
        ],
    }
    assert adf_to_markdown(doc) == (
        "> **Warning:** Careful\n\n"
        "- [x] done\n- [ ] todo\n\n"
        "🎉 on 2024-05-01 \\[IN PROGRESS\\] <https://example.com/card>\n\n"
        "**Details**\n\nHidden\n\n"
        "[screen.png: media abc-123]\n\n"
        "still here"
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "Plain paragraph.",
        "# Title\n\nText with **bold** and `code`.",
        "1. first\n2. second\n   - nested",
        "```\nno language\n```",
        "> quote one\n> quote two",
        "| a | b |\n| --- | --- |\n| 1 | 2 |",
        "Line one\nline two",
        "Escapes: \\*not bold\\* and \\[not a link\\]",
        "- [not a mention](https://example.com/x_y)",
    ],
)
def test_markdown_round_trips_through_adf(markdown: str) -> None:
    assert adf_to_markdown(markdown_to_adf(markdown)) == markdown


def test_markdown_that_looks_like_markup_in_adf_text_stays_text() -> None:
    for text in ["# not a heading", "- not a list", "1. not a list", "---", "> not a quote", "**not bold**"]:
        doc = {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
        }
        assert markdown_to_adf(adf_to_markdown(doc)) == doc, text


def test_empty_and_odd_values() -> None:
    assert adf_to_markdown(None) == ""
    assert adf_to_markdown("already text") == "already text"
    assert markdown_to_adf("") == {"type": "doc", "version": 1, "content": []}


WIKI = """h2. Release plan

Ship *2.4* with _care_, not -haste-; run {{make release}}, see [the guide|https://example.com/guide] and ask [~ada].

* Backend
** migrate
* Frontend

{code:python}
def ship():
    return True
{code}

||Key||State||
|EX-1|open|"""


def test_wiki_markup_reads_as_markdown() -> None:
    markdown = wiki_to_markdown(WIKI)
    assert markdown.startswith("## Release plan\n\nShip **2.4** with _care_, not ~~haste~~; run `make release`")
    assert "[the guide](https://example.com/guide)" in markdown and "@ada" in markdown
    assert "- Backend\n  - migrate\n- Frontend" in markdown
    assert "```python\ndef ship():\n    return True\n```" in markdown
    assert "|Key|State|" in markdown.replace(" ", "")


def test_markdown_becomes_wiki_markup() -> None:
    markdown = (
        "## Plan\n\nShip **2.4** with *care*, ~~not haste~~, `code`, [guide](https://example.com) "
        "and [@Ada](mention:ada).\n\n- one\n  - two\n1. first\n\n```python\nx = 1\n```\n\n> quoted\n\n---\n\n"
        "| a | b |\n| --- | --- |\n| 1 | 2 |"
    )
    assert markdown_to_wiki(markdown) == (
        "h2. Plan\n\nShip *2.4* with _care_, -not haste-, {{code}}, [guide|https://example.com] and [~ada].\n\n"
        "* one\n** two\n\n# first\n\n{code:python}\nx = 1\n{code}\n\n{quote}\nquoted\n{quote}\n\n----\n\n"
        "||a||b||\n|1|2|"
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "## Plan\n\nShip **2.4** with `code` and [guide](https://example.com).",
        "- one\n  - two\n- three",
        "```python\nx = 1\n```",
        "Text with a well-known hyphen, a {brace} and [brackets].",
    ],
)
def test_markdown_round_trips_through_wiki_markup(markdown: str) -> None:
    """The same document comes back (its Markdown may spell an escape differently: `\\{` for `{`)."""
    back = wiki_to_markdown(markdown_to_wiki(markdown))
    render = markdown_parser().render
    assert render(back) == render(markdown)
