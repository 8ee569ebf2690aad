"""Docs structure to Markdown and Markdown to Docs requests, and the round trip between them.

The round trip applies the requests to `docs_simulator.SimulatedDocument` (a model of how Docs
applies them), reads the result back as Markdown and compares; every request list is also checked
against the `BatchUpdateDocumentRequest` schema of Google's discovery document.
"""

from __future__ import annotations

from typing import Any

import pytest
from discovery import DiscoveryValidator
from docs_simulator import SimulatedDocument
from google_support import body

from sagemcp_google._docs_markdown import document_markdown, escape, view
from sagemcp_google._markdown_docs import CODE_FONT, parse, requests_for, u16

SAMPLES = {
    "headings and emphasis": "# Roadmap\n\nShip the **importer** by *March*, ~~not~~ later.\n\n## Goals\n\nText with `code` and a [link](https://example.com/a).\n",
    "nested lists": "- Faster sync\n  - Offline mode\n  - Conflict view\n- Sharing\n\n1. Beta\n2. General availability\n",
    "table": "| Team | Owner |\n| --- | --- |\n| Sync | Ana |\n| Import | **Ben** |\n",
    "code and quote": "Before.\n\n```\nmake test\n\nmake release\n```\n\n> Decided on 2 March.\n\n---\n\nAfter.\n",
    "unicode": "# Café 🚀\n\nÉmoji 👩‍💻 and **gras** ✓ text.\n\n- 日本語\n- ünïcödé\n",
    "mixed": "# Plan\n\nIntro paragraph.\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n- after the table\n- second\n\n### Small heading\n\nLast *line*.\n",
}


def roundtrip(markdown: str, start: SimulatedDocument | None = None) -> tuple[str, list[dict[str, Any]]]:
    doc = start or SimulatedDocument()
    requests = requests_for(markdown, 1)
    doc.apply(requests)
    return document_markdown(view(doc.document())), requests


@pytest.mark.parametrize("markdown", SAMPLES.values(), ids=SAMPLES.keys())
def test_markdown_survives_docs_and_back(markdown: str, google_description: DiscoveryValidator) -> None:
    result, requests = roundtrip(markdown)
    assert result == markdown
    errors = list(
        google_description.schema_validator("docs", "BatchUpdateDocumentRequest").iter_errors({"requests": requests})
    )
    assert not errors, errors[0].message


def test_the_sample_document_reads_as_markdown() -> None:
    """A document as Docs returns it (fixture of documents.get): title, headings, styled runs, lists, a table, code."""
    markdown = document_markdown(view(body("docs.documents.get")))
    assert markdown.splitlines()[:3] == ["# Roadmap 2026", "", "# Goals"]
    assert (
        "Ship the **importer** by March, see the [design doc](https://example.com/design) and run `make release` 🚀."
        in markdown
    )
    assert "- Faster sync\n  - *Offline mode*" in markdown
    assert "1. Beta\n2. General availability" in markdown
    assert "| Team | Owner |\n| --- | --- |\n| Sync | Ana |" in markdown
    assert "```\nmake test\n```" in markdown and "~~Old plan~~" in markdown


def test_the_sample_document_survives_a_second_trip() -> None:
    """Docs -> Markdown -> Docs -> Markdown is stable: the second Markdown equals the first (bar TITLE, read as `#`)."""
    first = document_markdown(view(body("docs.documents.get")))
    second, _ = roundtrip(first)
    # The header row of a table is bold in Docs and bold again on the way back, so compare without it.
    assert second.replace("**Team**", "Team").replace("**Owner**", "Owner") == first


def test_a_second_tab_is_read_by_its_id() -> None:
    notes = view(body("docs.documents.get"), "t.notes")
    assert notes.tab_title == "Notes"
    assert document_markdown(notes) == "# Risks\n\nHiring is slow.\n"
    with pytest.raises(KeyError):
        view(body("docs.documents.get"), "t.none")


def test_inserting_into_a_styled_paragraph_does_not_inherit_its_style() -> None:
    doc = SimulatedDocument()
    doc.apply(requests_for("**All bold heading text**", 1))
    doc.apply(requests_for("plain", 1))  # inserted before the bold paragraph, takes no bold from it
    assert document_markdown(view(doc.document())) == "plain\n\n**All bold heading text**\n"


def test_indexes_count_utf16_code_units() -> None:
    requests = requests_for("🚀 **b**", 1)
    styled = [r for r in requests if "updateTextStyle" in r and r["updateTextStyle"]["textStyle"].get("bold")]
    assert styled[0]["updateTextStyle"]["range"] == {"startIndex": 4, "endIndex": 5}
    assert u16("🚀") == 2


def test_requests_carry_the_tab_id() -> None:
    requests = requests_for("# A\n\n- b", 5, tab_id="t.1")
    assert all(
        (spec.get("location") or spec.get("range") or {}).get("tabId") == "t.1"
        for request in requests
        for spec in request.values()
    )


def test_code_uses_a_monospace_font_and_lists_get_their_preset() -> None:
    requests = requests_for("```\nx = 1\n```\n\n1. one\n", 1)
    fonts = [r["updateTextStyle"]["textStyle"].get("weightedFontFamily") for r in requests if "updateTextStyle" in r]
    assert {"fontFamily": CODE_FONT} in fonts
    assert [r["createParagraphBullets"]["bulletPreset"] for r in requests if "createParagraphBullets" in r] == [
        "NUMBERED_DECIMAL_ALPHA_ROMAN"
    ]


def test_markdown_special_characters_are_escaped_and_read_back() -> None:
    text = "Use *stars*, _underscores_, [brackets] and a # sign"
    assert escape("# not a heading") == "\\# not a heading"
    doc = SimulatedDocument()
    doc.apply([{"insertText": {"location": {"index": 1}, "text": text + "\n"}}])
    markdown = document_markdown(view(doc.document()))
    assert parse(markdown)[0].text == text  # type: ignore[union-attr]
