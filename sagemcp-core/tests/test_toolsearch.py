"""Ranked tool search: terms, field weights, synonyms, notations, filters and determinism."""

from __future__ import annotations

import time

import pytest

from sagemcp import Connector, ConnectorInfo, ToolContext, tool
from sagemcp._toolsearch import ToolDoc, ToolIndex, terms, tool_doc


def doc(
    name: str, description: str = "", *, group: str = "main", title: str = "", params: tuple[str, ...] = ()
) -> ToolDoc:
    connector = name.split("_", 1)[0]
    return ToolDoc(name, connector, group, title or name.split("_", 1)[1].replace("_", " "), description, params)


CATALOGUE = [
    doc("github_list_pull_requests", "List a repository's pull requests, filtered by state.", group="pull_requests"),
    doc(
        "github_merge_pull_request",
        "Merge a pull request with a merge commit, squash or rebase.",
        group="pull_requests",
    ),
    doc("github_create_issue", "Open a new issue in a repository.", group="issues"),
    doc("github_list_issues", "List a repository's issues.", group="issues"),
    doc("jira_create_issue", "Create an issue. Returns its key.", group="issues"),
    doc("jira_transition_issue", "Move an issue through its workflow (change its status).", group="transitions"),
    doc("slack_send_message", "Post a new message to a channel or DM.", group="messages_write"),
    doc("slack_send_direct_message", "Send a direct message to one person.", group="messages_write"),
    doc("slack_list_messages", "Read a channel's messages, newest first.", group="messages"),
    doc("google_list_spreadsheets", "List or search Google Sheets spreadsheets.", group="sheets"),
    doc("google_create_event", "Create a calendar event with attendees.", group="calendar"),
    doc("zoom_create_meeting", "Schedule a Zoom meeting and return its join link.", group="meetings"),
]
INDEX = ToolIndex(CATALOGUE)


def names(query: str, **kwargs: object) -> list[str]:
    return [d.name for d, _ in INDEX.search(query, **kwargs)]  # type: ignore[arg-type]


def test_terms_split_names_drop_stop_words_and_stem() -> None:
    assert terms("github_list_pull_requests") == ["github", "list", "pr"]
    assert terms("listPullRequests") == ["list", "pr"]
    assert terms("the meetings") == terms("meeting")
    assert terms("scheduled") == terms("schedule") == terms("scheduling")
    assert terms("Issues") == terms("issue")
    assert terms("replies") == terms("reply")
    assert terms("branches") == terms("branch")
    assert terms("what is in it") == []


def test_a_word_in_the_name_ranks_above_the_same_word_in_a_description() -> None:
    index = ToolIndex([doc("x_attach_page", "Attach an invoice to a page."), doc("x_get_invoice", "Read one.")])
    assert [d.name for d, _ in index.search("invoice")] == ["x_get_invoice", "x_attach_page"]


def test_platform_synonyms_widen_the_query() -> None:
    assert names("merge PR 118")[0] == "github_merge_pull_request"
    assert names("open a ticket in jira")[0] == "jira_create_issue"
    assert names("find the budget spreadsheet")[0] == "google_list_spreadsheets"
    assert names("DM Ana that I am late")[0] == "slack_send_direct_message"
    assert names("schedule a zoom call")[0] == "zoom_create_meeting"


def test_a_typed_word_counts_more_than_its_synonym() -> None:
    index = ToolIndex([doc("x_get_document", "Read a document."), doc("x_get_doc", "Read a doc.")])
    ranked = index.search("doc")
    assert [d.name for d, _ in ranked] == ["x_get_doc", "x_get_document"]
    assert ranked[0][1] > ranked[1][1] > 0


def test_a_word_no_tool_has_is_replaced_by_its_synonyms() -> None:
    # "bug" appears in no document: its synonyms ("issue", "ticket") carry the query at full weight.
    index = ToolIndex(CATALOGUE)
    with_bug = index.search("bug")
    with_issue = index.search("issue")
    assert [d.name for d, _ in with_bug] == [d.name for d, _ in with_issue]
    assert [s for _, s in with_bug] == pytest.approx([s for _, s in with_issue])


def test_notations_name_the_kind_of_object() -> None:
    assert names("what did #eng say")[0] == "slack_list_messages"
    assert names("move PROJ-12")[0] == "jira_transition_issue"
    assert "github_list_issues" in names("octo/widgets", limit=3)


def test_connector_and_group_filters() -> None:
    assert names("create issue", connector="jira") == ["jira_create_issue", "jira_transition_issue"]
    assert names("issue", group="transitions") == ["jira_transition_issue"]
    assert names("issue", connector="nothing") == []


def test_results_are_sorted_positive_limited_and_deterministic() -> None:
    ranked = INDEX.search("list messages in a channel", limit=3)
    assert len(ranked) == 3
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)
    assert ranked == ToolIndex(CATALOGUE).search("list messages in a channel", limit=3)
    assert INDEX.search("list", limit=0) == []
    assert INDEX.search("") == []
    assert INDEX.search("zzzz qqqq") == []


def test_ties_break_on_the_name() -> None:
    index = ToolIndex([doc("x_b_thing"), doc("x_a_thing")])
    assert [d.name for d, _ in index.search("thing")] == ["x_a_thing", "x_b_thing"]


def test_an_empty_index_finds_nothing() -> None:
    index = ToolIndex([])
    assert len(index) == 0
    assert index.search("anything") == []


def test_parameters_count_a_little() -> None:
    index = ToolIndex([doc("x_get_item", params=("repository",)), doc("x_get_other")])
    assert [d.name for d, _ in index.search("repository")] == ["x_get_item"]


class Notes(Connector):
    info = ConnectorInfo(id="notes", title="Notes", description="Notes to test the index.")

    @tool(read_only=True, group="reading", title="Read a note")
    async def read_note(self, ctx: ToolContext, note_id: str, with_history: bool = False) -> str:
        """Read one note as Markdown."""
        return ""


def test_tool_doc_of_a_served_tool() -> None:
    spec = Notes.tools["notes_read_note"]
    assert tool_doc("notes", spec) == ToolDoc(
        name="notes_read_note",
        connector="notes",
        group="reading",
        title="Read a note",
        description="Read one note as Markdown.",
        parameters=("note_id", "with_history"),
    )


def test_building_an_index_of_a_large_catalogue_is_fast() -> None:
    docs = [
        doc(f"c{i % 6}_verb{i % 17}_object{i}", f"Do verb{i % 17} to object{i} with words {i % 13} and more text.")
        for i in range(1000)
    ]
    started = time.perf_counter()
    index = ToolIndex(docs)
    index.search("verb3 object42 words")
    assert time.perf_counter() - started < 2.0
    assert index.search("object42")[0][0].name == "c0_verb8_object42"
