"""Rich text: agendas between Markdown and Zoom's plain text (round trips), and WebVTT to speaker-labelled text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zoom_support import transcript_vtt

from sagemcp_zoom._text import markdown_to_plain, normalise, plain_to_markdown
from sagemcp_zoom._vtt import TranscriptError, parse_vtt, render_turns, to_turns

AGENDA_MD = """## Launch review

**Goals** for _this_ week:

- Ship the [importer](https://example.com/importer_v2)
- Pricing page
  (copy is final)

1. Risks
2. Owners

> Bring numbers.

`code` stays as text; a_b and 3 * 4 too.
"""


def test_markdown_becomes_the_plain_text_zoom_shows() -> None:
    assert markdown_to_plain(AGENDA_MD) == (
        "Launch review\n\n"
        "Goals for this week:\n\n"
        "- Ship the importer (https://example.com/importer_v2)\n"
        "- Pricing page\n"
        "  (copy is final)\n\n"
        "1. Risks\n"
        "2. Owners\n\n"
        "> Bring numbers.\n\n"
        "code stays as text; a_b and 3 * 4 too."
    )


def test_plain_text_from_zoom_reads_the_same_once_rendered() -> None:
    plain = "Agenda:\n# 1 priority\n- not a list\n2. nor this\n*stars* and _under_ a_b\n    indented\n<b>no html</b>"
    markdown = plain_to_markdown(plain)
    assert markdown_to_plain(markdown) == plain
    assert "a_b" in markdown  # an underscore inside a word needs no escape, so links stay copyable
    assert "\\# 1 priority" in markdown and "\\- not a list" in markdown and "2\\. nor this" in markdown


def test_a_markdown_agenda_survives_the_round_trip() -> None:
    plain = markdown_to_plain(AGENDA_MD)
    assert markdown_to_plain(plain_to_markdown(plain)) == plain


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")) | st.sampled_from("\n\t "), max_size=200
    )
)
def test_any_plain_text_round_trips(text: str) -> None:
    assert markdown_to_plain(plain_to_markdown(text)) == normalise(text)


def test_zoom_cues_become_speaker_turns() -> None:
    cues = parse_vtt(transcript_vtt())
    assert [c.speaker for c in cues][:3] == ["Ana Lima", "Ana Lima", "Ben Okafor"]
    turns = to_turns(cues)
    assert len(turns) == 5 and turns[0].text.endswith("First item is the importer.")
    assert (
        render_turns(turns).splitlines()[3] == "[00:00:20] Chen Wei: Copy is final; design review is tomorrow at 10:00."
    )


def test_voice_spans_and_unnamed_cues() -> None:
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Jane Doe>Hello there</v>\n\n"
        "00:01:05.000 --> 00:01:07.000\nNo speaker here, just words.\n\n"
        "00:01:08.000 --> 00:01:09.000\n12:30 works for me.\n"
    )
    text = render_turns(to_turns(parse_vtt(vtt)))
    assert text.splitlines() == [
        "[00:00:01] Jane Doe: Hello there",
        "[00:01:05] No speaker here, just words. 12:30 works for me.",
    ]


def test_a_long_pause_starts_a_new_turn() -> None:
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAna: One.\n\n00:05:00.000 --> 00:05:02.000\nAna: Two.\n"
    assert render_turns(to_turns(parse_vtt(vtt))) == "[00:00:01] Ana: One.\n[00:05:00] Ana: Two.\n"


@pytest.mark.parametrize("content", ["<html>error</html>", "WEBVTT\n\nnot a cue\n"])
def test_what_is_not_webvtt_is_refused(content: str) -> None:
    with pytest.raises(TranscriptError):
        parse_vtt(content)


def test_an_empty_file_has_no_cues() -> None:
    assert parse_vtt("") == [] and parse_vtt("\ufeffWEBVTT\n\n") == []
