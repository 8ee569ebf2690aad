"""Zoom's WebVTT transcripts as speaker-labelled text.

A Zoom transcript is a WebVTT file of numbered cues, a few seconds each, the speaker's name
before the words (`Jane Doe: Thanks, everyone.`) or, in some files, as a WebVTT voice span
(`<v Jane Doe>Thanks, everyone.</v>`). webvtt-py parses the file; consecutive cues of one
speaker become one turn, so an hour-long meeting reads as a few hundred lines:

    [00:00:05] Jane Doe: Thanks, everyone. Let's start with the roadmap.
    [00:00:12] John Smith: Sure. We shipped the importer last week...

The text is a good third smaller than the file (no cue numbers, end times or repeated names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

__all__ = ["Cue", "TranscriptError", "Turn", "parse_vtt", "render_turns", "to_turns"]

_SPEAKER_RE = re.compile(r"^(?P<name>[^:\n]{1,80}?):\s+(?P<text>\S.*)$", re.DOTALL)
_NAME_RE = re.compile(r"^[\w .,'()&@+-]+$")
_MAX_NAME_WORDS = 8
_TURN_GAP = 60.0
"""Seconds of silence after which the same speaker starts a new turn (and a new timestamp)."""


class TranscriptError(ValueError):
    """The file is not WebVTT."""


@dataclass(frozen=True)
class Cue:
    """One cue of the file: when it starts (seconds), who speaks (if known) and what is said."""

    start: float
    end: float
    speaker: str | None
    text: str


@dataclass(frozen=True)
class Turn:
    """Consecutive cues of one speaker."""

    start: float
    speaker: str | None
    text: str


def _speaker_and_text(voice: str | None, text: str) -> tuple[str | None, str]:
    text = " ".join(text.split())
    if voice:
        return voice.strip() or None, text
    match = _SPEAKER_RE.match(text)
    if match is not None:
        name = match.group("name").strip()
        if _NAME_RE.match(name) and len(name.split()) <= _MAX_NAME_WORDS and not name[0].isdigit():
            return name, match.group("text").strip()
    return None, text


def parse_vtt(content: str) -> list[Cue]:
    """The cues of a WebVTT file, in order; `TranscriptError` when it is not WebVTT."""
    body = content.lstrip("\ufeff")
    if not body.strip():
        return []
    try:
        captions = webvtt.from_string(body)
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise TranscriptError(f"the transcript file is not valid WebVTT ({exc})") from None
    cues: list[Cue] = []
    for caption in captions.captions:
        speaker, text = _speaker_and_text(getattr(caption, "voice", None), caption.text)
        if text:
            cues.append(Cue(_seconds(caption.start), _seconds(caption.end), speaker, text))
    lines = [line for line in body.splitlines()[1:] if line.strip() and not line.startswith("NOTE")]
    if not cues and lines:
        raise TranscriptError("the transcript file is not valid WebVTT (it has text but no readable cue)")
    return cues


def _seconds(timestamp: str) -> float:
    """`01:02:03.450` or `02:03.450` as seconds."""
    parts = timestamp.replace(",", ".").split(":")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        return 0.0
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    return seconds


def to_turns(cues: list[Cue]) -> list[Turn]:
    """Consecutive cues of one speaker joined into turns (a long pause starts a new one)."""
    turns: list[Turn] = []
    texts: list[str] = []
    current: Cue | None = None
    last_end = 0.0
    for cue in cues:
        if current is not None and cue.speaker == current.speaker and cue.start - last_end <= _TURN_GAP:
            texts.append(cue.text)
        else:
            if current is not None:
                turns.append(Turn(current.start, current.speaker, " ".join(texts)))
            current, texts = cue, [cue.text]
        last_end = cue.end
    if current is not None:
        turns.append(Turn(current.start, current.speaker, " ".join(texts)))
    return turns


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def render_turns(turns: list[Turn]) -> str:
    """One line per turn: `[hh:mm:ss] Speaker: text` (`[hh:mm:ss] text` when Zoom named nobody)."""
    lines = []
    for turn in turns:
        who = f"{turn.speaker}: " if turn.speaker else ""
        lines.append(f"[{_clock(turn.start)}] {who}{turn.text}")
    return "\n".join(lines) + ("\n" if lines else "")
