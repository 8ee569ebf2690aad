"""Ranked search over a tool catalogue, for progressive discovery (search, then describe, then call).

A model with hundreds of tools in reach asks in words ("list my open PRs that need review");
`ToolIndex.search` answers with the few tools most likely to do it. The ranking is BM25F: each
tool is a document with weighted fields (name split on `_`, title, description, group,
connector, parameter names), terms get a light stemming so "meetings", "meeting" and
"scheduled", "schedule" meet, and a small table of platform synonyms ("PR" and "pull request",
"ticket" and "issue", "DM" and "direct message", "spreadsheet" and "sheet") widens the query,
at a lower weight than the words actually typed. Pure Python and deterministic (ties break on
the name): an index over 300 tools builds in a few milliseconds, so one is built per catalogue.
"""

from __future__ import annotations

import math
import re
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass

from ._tools import ToolSpec

__all__ = ["ToolDoc", "ToolIndex", "terms", "tool_doc"]


@dataclass(frozen=True)
class ToolDoc:
    """What the index knows of one tool."""

    name: str
    connector: str
    group: str
    title: str
    description: str
    parameters: tuple[str, ...] = ()
    """The names of the tool's input properties."""


def tool_doc(connector: str, spec: ToolSpec) -> ToolDoc:
    """The index document of a served tool."""
    properties = spec.input_schema.get("properties") or {}
    return ToolDoc(
        name=spec.name,
        connector=connector,
        group=spec.group,
        title=spec.title,
        description=spec.description,
        parameters=tuple(properties),
    )


# BM25 constants (the usual ones) and field weights: a word in the name says more about what a
# tool does than the same word in a sentence of its description.
_K1 = 1.2
_B = 0.75
_FIELDS: tuple[tuple[str, float], ...] = (
    ("name", 2.5),
    ("title", 1.0),
    ("description", 1.0),
    ("group", 1.0),
    ("connector", 1.5),
    ("parameters", 0.4),
)
_SYNONYM_WEIGHT = 0.5
"""A synonym counts for half of a word the query actually contains."""

_WORD = re.compile(r"[A-Za-z]+|[0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_CHANNEL = re.compile(r"(?<![\w/])#[A-Za-z0-9][\w.-]*")
_ISSUE_KEY = re.compile(r"\b[A-Z][A-Z0-9]+-[0-9]+\b")
_MENTION = re.compile(r"(?<![\w.])@[A-Za-z][\w.-]*")
_REPOSITORY = re.compile(r"(?<![\w/.:])[A-Za-z][\w.-]*/[A-Za-z][\w.-]*(?![\w/])")

_STOPWORDS = frozenset(
    """a about again all also an and any are as at be been being but by can could did do does each else every for
    from he her his how i if in into is it it's its just may me might mine more most must my no not of on one
    only onto or other our out over own please s same shall she should so some such t than that the their them
    then there these they this those to too under up us very was we were what when where which who whom whose
    why will with without would yes you your""".split()  # noqa: SIM905 (a word list reads better as words)
)

_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("pull", "request"), "pr"),
    (("pull", "requests"), "pr"),
    (("merge", "request"), "pr"),
    (("merge", "requests"), "pr"),
    (("direct", "message"), "dm"),
    (("direct", "messages"), "dm"),
    (("bug", "report"), "issue"),
    (("e", "mail"), "email"),
    (("e", "mails"), "email"),
    (("to", "do"), "todo"),
    (("code", "review"), "review"),
    (("time", "zone"), "timezone"),
    (("data", "source"), "datasource"),
    (("data", "sources"), "datasource"),
    (("free", "busy"), "freebusy"),
)

# Groups of words that mean the same thing on these platforms; every word of a group
# (stemmed) widens a query containing another. Kept small on purpose: a wide table makes
# every query match everything.
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("pr", "pulls"),
    ("issue", "ticket", "bug"),
    ("dm", "message", "chat"),
    ("message", "post"),
    ("doc", "document"),
    ("sheet", "spreadsheet", "excel"),
    ("meeting", "event", "appointment", "call"),
    ("meeting", "zoom"),
    ("event", "calendar"),
    ("email", "mail", "gmail", "inbox"),
    ("repo", "repository"),
    ("find", "search", "lookup", "look"),
    ("get", "read", "show", "view", "fetch"),
    ("list", "show"),
    ("create", "new", "add", "make", "schedule"),
    ("delete", "remove", "erase"),
    ("update", "change", "edit", "modify"),
    ("send", "post", "write"),
    ("user", "person", "people", "member", "colleague", "teammate"),
    ("channel", "conversation", "room"),
    ("folder", "directory"),
    ("transition", "move", "status"),
    ("comment", "reply", "note"),
    ("workflow", "ci", "pipeline", "build", "action", "check"),
    ("recording", "video", "recorded"),
    ("transcript", "transcription"),
    ("summary", "recap", "minutes"),
    ("release", "version"),
    ("share", "permission", "access"),
    ("freebusy", "free", "busy", "available", "availability"),
    ("worklog", "hour", "spent"),
    ("attendee", "participant", "attended", "invitee"),
    ("invite", "invitation"),
    ("respond", "rsvp", "accept", "decline"),
    ("group", "team"),
    ("vulnerability", "dependabot", "cve", "advisory"),
    ("decide", "decision", "discuss", "said", "talk"),
    ("review", "approve"),
    ("cell", "range", "row"),
    ("trash", "archive"),
    ("file", "attachment"),
    ("datasource", "database", "table"),
    ("recent", "recently", "yesterday", "today", "lately"),
)


def _stem(word: str) -> str:
    """A light suffix stripper: plurals, -ed, -ing and a final -e, so related forms meet.

    Not a linguistic stemmer: it only has to map the forms that occur in tool catalogues and in
    requests to the same key, and it is applied the same way to both.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")) or (word.endswith("ses") and len(word) > 5):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    # then the verb forms, so that "meetings", "meeting" and "meet" meet
    if word.endswith("ing") and len(word) > 5:
        word = _undouble(word[:-3])
    elif word.endswith("ed") and len(word) > 4:
        word = _undouble(word[:-2])
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(_CAMEL.sub(" ", text.replace("_", " ")))]


def _join_phrases(words: Sequence[str]) -> Iterator[str]:
    i = 0
    while i < len(words):
        for phrase, joined in _PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase:
                yield joined
                i += len(phrase)
                break
        else:
            yield words[i]
            i += 1


def terms(text: str) -> list[str]:
    """The index terms of a text: words split on case, `_` and punctuation, phrases joined, stop words
    dropped, stemmed."""
    return [_stem(w) for w in _join_phrases(_words(text)) if w not in _STOPWORDS]


def _build_synonyms() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in _SYNONYM_GROUPS:
        stems = {_stem(w) for w in group}
        for s in stems:
            table.setdefault(s, set()).update(stems - {s})
    return {k: frozenset(v) for k, v in table.items()}


_SYNONYMS = _build_synonyms()


def _query_terms(query: str, known: Container[str]) -> dict[str, float]:
    """Each query term with its weight: 1 for a word typed, `_SYNONYM_WEIGHT` for a synonym.

    A few notations name a kind of object without saying it: `#eng` is a channel, `PROJ-12` an
    issue key, `@ana` a person, `octo/widgets` a repository; they add that word. A typed word no
    tool contains ("bug") is replaced by its synonyms at full weight: they are all it can mean here.
    """
    extra: list[str] = []
    if _CHANNEL.search(query):
        extra.append("channel")
    if _ISSUE_KEY.search(query):
        extra.append("issue")
    if _MENTION.search(query):
        extra.append("user")
    if _REPOSITORY.search(query):
        extra.append("repository")
    typed = terms(query) + terms(" ".join(extra))
    weights: dict[str, float] = {}
    for term in typed:
        weights[term] = 1.0
    for term in typed:
        weight = _SYNONYM_WEIGHT if term in known else 1.0
        for synonym in _SYNONYMS.get(term, ()):
            weights[synonym] = max(weights.get(synonym, 0.0), weight)
    return weights


class ToolIndex:
    """A BM25F index over tool documents; `search` ranks them for a request in words."""

    def __init__(self, docs: Iterable[ToolDoc]) -> None:
        self._docs: list[ToolDoc] = list(docs)
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._lengths: list[float] = []
        for i, doc in enumerate(self._docs):
            counts: dict[str, float] = {}
            length = 0.0
            for field, weight in _FIELDS:
                value = getattr(doc, field)
                text = " ".join(value) if isinstance(value, tuple) else value
                for term in terms(text):
                    counts[term] = counts.get(term, 0.0) + weight
                    length += weight
            self._lengths.append(length)
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((i, tf))
        n = len(self._docs)
        self._average = (sum(self._lengths) / n) if n else 0.0
        self._idf = {
            term: math.log(1.0 + (n - len(posts) + 0.5) / (len(posts) + 0.5)) for term, posts in self._postings.items()
        }

    def __len__(self) -> int:
        return len(self._docs)

    def search(
        self, query: str, *, connector: str | None = None, group: str | None = None, limit: int = 10
    ) -> list[tuple[ToolDoc, float]]:
        """The tools that best match `query`, best first, with their scores (only scores above 0).

        `connector` and `group` keep only the tools of that connector or group. An empty query, or
        one whose words no tool contains, returns an empty list.
        """
        if limit <= 0:
            return []
        scores: dict[int, float] = {}
        for term, weight in _query_terms(query, self._postings).items():
            posts = self._postings.get(term)
            if not posts:
                continue
            idf = self._idf[term]
            for i, tf in posts:
                norm = _K1 * (1.0 - _B + _B * self._lengths[i] / self._average)
                scores[i] = scores.get(i, 0.0) + weight * idf * tf * (_K1 + 1.0) / (tf + norm)
        ranked = [
            (self._docs[i], score)
            for i, score in scores.items()
            if score > 0.0
            and (connector is None or self._docs[i].connector == connector)
            and (group is None or self._docs[i].group == group)
        ]
        ranked.sort(key=lambda item: (-item[1], item[0].name))
        return ranked[:limit]
