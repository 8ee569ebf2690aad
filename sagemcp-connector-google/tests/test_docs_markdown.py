"""Docs structure to Markdown and Markdown to Docs requests, and the round trip between them.

The round trip applies the requests to `docs_simulator.SimulatedDocument` (a model of how Docs
applies them), reads the result back as Markdown and compares; every request list is also checked
against the `BatchUpdateDocumentRequest` schema of Google's discovery document.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from docs_simulator import SimulatedDocument
from google_support import body

from sagemcp.testing import DiscoveryValidator
from sagemcp_google._docs_markdown import document_markdown, escape, view
from sagemcp_google._markdown_docs import CODE_FONT, MAX_IMAGE_URL, parse, requests_for, u16

SAMPLES = {
    "headings and emphasis": "# Roadmap\n\nShip the **importer** by *March*, ~~not~~ later.\n\n## Goals\n\nText with `code` and a [link](https://example.com/a).\n",
    "nested lists": "- Faster sync\n  - Offline mode\n  - Conflict view\n- Sharing\n\n1. Beta\n2. General availability\n",
    "table": "| Team | Owner |\n| --- | --- |\n| Sync | Ana |\n| Import | **Ben** |\n",
    "code and quote": "Before.\n\n```\nmake test\n\nmake release\n```\n\n> Decided on 2 March.\n\n---\n\nAfter.\n",
    "unicode": "# Café 🚀\n\nÉmoji 👩‍💻 and **gras** ✓ text.\n\n- 日本語\n- ünïcödé\n",
    "mixed": "# Plan\n\nIntro paragraph.\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n- after the table\n- second\n\n### Small heading\n\nLast *line*.\n",
    "bullets inside numbers": "1. Plan\n   - scope\n   - budget\n2. Build\n   1. backend\n   2. frontend\n      - tests\n      - docs\n3. Ship\n",
    "numbers inside bullets": "- Risks\n  1. hiring\n  2. budget\n- Mitigations\n  - contractors\n    1. interview\n    2. onboard\n  - **training**\n",
    "two kinds under one item": "- Launch\n  1. first\n  - then\n- After\n",
    "ten and more": "".join(f"{n}. item {n}\n" for n in range(1, 10))
    + "10. item 10\n    - detail under ten\n11. item 11\n",
    "images": "![image](https://example.com/chart.png)\n\nThe flow ![image](https://example.com/flow.png) as *drawn*.\n\n"
    "- ![image](https://example.com/icon.png) icon\n\n| Step | Picture |\n| --- | --- |\n| one | ![image](https://example.com/one.png) |\n",
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
    # One Docs list whose second level has bullet glyphs: numbered items with bulleted ones under them.
    assert "1. Beta\n   - Private preview\n   - Partner feedback\n2. General availability" in markdown
    # An uploaded image (no sourceUri) by its contentUri, with its title as alt text; a positioned one after.
    assert (
        "The sync flow: ![Sync flow diagram](https://lh7-rt.googleusercontent.com/docsz/AD_4nXdSyncFlow?key=k1)\n\n"
        "![Team photo](https://example.com/team.jpg)\n"
    ) in markdown
    assert "| Team | Owner |\n| --- | --- |\n| Sync | Ana |" in markdown
    assert "```\nmake test\n```" in markdown and "~~Old plan~~" in markdown


def test_the_sample_document_survives_a_second_trip() -> None:
    """Docs -> Markdown -> Docs -> Markdown is stable: the second Markdown equals the first (bar TITLE, read as `#`)."""
    first = document_markdown(view(body("docs.documents.get")))
    second, _ = roundtrip(first)
    # The header row of a table is bold in Docs and bold again on the way back, so compare without it.
    # The Docs API cannot set an image's alt text, so an image written back is untitled (`image`).
    expected = first.replace("![Sync flow diagram]", "![image]").replace("![Team photo]", "![image]")
    assert second.replace("**Team**", "Team").replace("**Owner**", "Owner") == expected


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


def test_a_nested_list_of_the_other_kind_becomes_a_docs_list_of_its_own(
    google_description: DiscoveryValidator,
) -> None:
    requests = requests_for("1. a\n   - b\n   - c\n2. d\n", 1)
    bullets = [r["createParagraphBullets"] for r in requests if "createParagraphBullets" in r]
    # The whole list as numbered first; then b and c, their tabs put back, as bullets of their own.
    assert [b["bulletPreset"] for b in bullets] == ["NUMBERED_DECIMAL_ALPHA_ROMAN", "BULLET_DISC_CIRCLE_SQUARE"]
    assert bullets[0]["range"] == {"startIndex": 1, "endIndex": 11}  # a, tab b, tab c, d
    assert bullets[1]["range"] == {"startIndex": 3, "endIndex": 9}
    tabs = [r["insertText"] for r in requests if "insertText" in r and r["insertText"]["text"] == "\t"]
    assert [t["location"]["index"] for t in tabs] == [5, 3]  # the last first, so the first index stays true
    assert not list(
        google_description.schema_validator("docs", "BatchUpdateDocumentRequest").iter_errors({"requests": requests})
    )
    doc = SimulatedDocument()
    doc.apply(requests)
    items = [
        (e["paragraph"]["elements"][0]["textRun"]["content"].strip(), e["paragraph"]["bullet"])
        for e in doc.document()["body"]["content"]
        if "bullet" in e.get("paragraph", {})
    ]
    (a, outer), (b, inner), (c, inner2), (d, outer2) = items
    assert (a, b, c, d) == ("a", "b", "c", "d")
    assert outer["listId"] == outer2["listId"] != inner["listId"] == inner2["listId"]
    assert (outer["nestingLevel"], inner["nestingLevel"], inner2["nestingLevel"]) == (0, 1, 1)


def test_a_list_of_the_same_kind_as_the_one_before_joins_it() -> None:
    """Docs adds bullets to the list just before when its preset matches: Markdown right after a list continues it."""
    doc = SimulatedDocument()
    doc.apply(requests_for("1. one\n2. two\n", 1))
    doc.apply(requests_for("1. three\n", 9))  # right after "two"
    assert document_markdown(view(doc.document())) == "1. one\n2. two\n3. three\n"


def test_images_are_inserted_from_their_url_and_others_stay_links(google_description: DiscoveryValidator) -> None:
    requests = requests_for("See ![Chart](https://example.com/c.png) and ![local](chart.png).", 1)
    images = [r["insertInlineImage"] for r in requests if "insertInlineImage" in r]
    assert images == [{"uri": "https://example.com/c.png", "location": {"index": 5}}]
    assert requests[0] == {"insertText": {"location": {"index": 1}, "text": "See  and local.\n"}}
    links = [r["updateTextStyle"] for r in requests if "link" in r.get("updateTextStyle", {}).get("textStyle", {})]
    assert links[0]["range"] == {"startIndex": 11, "endIndex": 16}  # "local", one index after the image
    assert links[0]["textStyle"] == {"link": {"url": "chart.png"}}
    assert not list(
        google_description.schema_validator("docs", "BatchUpdateDocumentRequest").iter_errors({"requests": requests})
    )
    doc = SimulatedDocument()
    doc.apply(requests)
    # The alt text does not survive: the Docs API has no field for it.
    assert (
        document_markdown(view(doc.document())) == "See ![image](https://example.com/c.png) and [local](chart.png).\n"
    )
    too_long = "https://example.com/" + "a" * MAX_IMAGE_URL
    assert not [r for r in requests_for(f"![x]({too_long})", 1) if "insertInlineImage" in r]


def test_an_image_without_a_source_uses_its_content_uri_and_a_drawing_its_title() -> None:
    document = {
        "title": "Pictures",
        "body": {
            "content": [
                {
                    "startIndex": 1,
                    "endIndex": 4,
                    "paragraph": {
                        "elements": [
                            {"startIndex": 1, "endIndex": 2, "inlineObjectElement": {"inlineObjectId": "i1"}},
                            {"startIndex": 2, "endIndex": 3, "inlineObjectElement": {"inlineObjectId": "d1"}},
                            {"startIndex": 3, "endIndex": 4, "textRun": {"content": "\n"}},
                        ],
                        "paragraphStyle": {"namedStyleType": "NORMAL_TEXT"},
                    },
                }
            ]
        },
        "inlineObjects": {
            "i1": {
                "inlineObjectProperties": {
                    "embeddedObject": {
                        "description": "Q1 [draft] chart",
                        "imageProperties": {"contentUri": "https://lh7-rt.googleusercontent.com/docsz/x y"},
                    }
                }
            },
            "d1": {"inlineObjectProperties": {"embeddedObject": {"title": "Org", "embeddedDrawingProperties": {}}}},
        },
    }
    assert document_markdown(view(document)) == (
        "![Q1 \\[draft\\] chart](https://lh7-rt.googleusercontent.com/docsz/x%20y)[Org]\n"
    )


def test_a_docs_list_deeper_than_its_parent_is_written_one_level_down() -> None:
    doc = SimulatedDocument()
    doc.apply(requests_for("- a\n", 1))
    document = doc.document()
    paragraph = document["body"]["content"][1]
    skipped = json.loads(json.dumps(paragraph))
    skipped["paragraph"]["bullet"]["nestingLevel"] = 2
    skipped["paragraph"]["elements"][0]["textRun"]["content"] = "b\n"
    document["body"]["content"].insert(2, skipped)
    assert document_markdown(view(document)) == "- a\n  - b\n"
