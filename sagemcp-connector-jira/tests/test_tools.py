"""What the tools send and what a model sees: field names resolved, rich text converted, guards before writes."""

from __future__ import annotations

import json
from typing import Any

import httpx
from jira_support import CLOUD, DATA_CENTER_PAT, Deployment, Descriptions, FakeJira, fixture_body

from sagemcp.testing import ToolCall, call_tool
from sagemcp_jira import JiraConnector

STORY_POINTS = {"id": "customfield_10016", "name": "Story Points", "custom": True, "schema": {"type": "number"}}
TEAM = {"id": "customfield_10001", "name": "Team", "custom": True, "schema": {"type": "option", "custom": "select"}}
NOTES = {
    "id": "customfield_10050",
    "name": "Release notes",
    "custom": True,
    "schema": {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textarea"},
}
FIELDS = [*fixture_body("getFields"), STORY_POINTS, TEAM, NOTES]


async def run(
    descriptions: Descriptions,
    tool: str,
    arguments: dict[str, Any],
    responses: dict[str, Any] | None = None,
    deployment: Deployment = CLOUD,
) -> tuple[ToolCall, FakeJira]:
    fake = FakeJira(descriptions, deployment, responses={"getFields": FIELDS, **(responses or {})})
    result = await call_tool(
        JiraConnector, tool, arguments, handler=fake, config=deployment.config, credential=deployment.credential
    )
    return result, fake


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_search_resolves_field_names_and_shows_them(jira_descriptions: Descriptions) -> None:
    def search(request: httpx.Request) -> httpx.Response:
        issue = {"id": "1", "key": "EX-1", "fields": {"summary": "Login", "customfield_10016": 5}}
        return httpx.Response(200, json={"issues": [issue], "isLast": True})

    result, fake = await run(
        jira_descriptions,
        "jira_search_issues",
        {"jql": "project = EX", "fields": ["Story Points"]},
        {"searchAndReconsileIssuesUsingJqlPost": search},
    )
    assert not result.is_error, result.text
    assert fake.operation_ids == ["getFields", "searchAndReconsileIssuesUsingJqlPost"]
    assert body(fake.requests[-1])["fields"][-1] == "customfield_10016"
    assert result.structured is not None and result.structured["items"][0]["fields"] == {"customfield_10016": "5"}
    assert "| customfield_10016 |" in result.text.splitlines()[2] and "| 5 |" in result.text


async def test_an_unknown_field_name_is_refused_with_suggestions(jira_descriptions: Descriptions) -> None:
    result, fake = await run(jira_descriptions, "jira_search_issues", {"jql": "x", "fields": ["Story Point"]})
    assert result.is_error and result.outcome == "invalid"
    assert "did you mean 'Story Points' (customfield_10016)?" in result.text
    assert fake.operation_ids == ["getFields"]


async def test_a_cursor_is_bound_to_its_query(jira_descriptions: Descriptions) -> None:
    def search(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issues": [{"id": "1", "key": "EX-1", "fields": {}}], "nextPageToken": "n"})

    first, _ = await run(
        jira_descriptions, "jira_search_issues", {"jql": "a"}, {"searchAndReconsileIssuesUsingJqlPost": search}
    )
    assert first.structured is not None
    cursor = first.structured["next_cursor"]
    second, fake = await run(jira_descriptions, "jira_search_issues", {"jql": "b", "cursor": cursor})
    assert second.is_error and second.outcome == "invalid" and "other values of" in second.text
    assert fake.requests == []


async def test_data_center_search_pages_by_offset_and_reports_the_total(jira_descriptions: Descriptions) -> None:
    def search(request: httpx.Request) -> httpx.Response:
        start = body(request)["startAt"]
        issues = [{"id": str(n), "key": f"EX-{n}", "fields": {"summary": f"s{n}"}} for n in range(start, start + 2)]
        return httpx.Response(200, json={"startAt": start, "maxResults": 2, "total": 3, "issues": issues[: 3 - start]})

    first, fake = await run(
        jira_descriptions,
        "jira_search_issues",
        {"jql": "project = EX", "limit": 2},
        {"searchUsingSearchRequest": search},
        DATA_CENTER_PAT,
    )
    assert first.structured is not None and first.structured["total"] == 3
    assert str(fake.requests[0].url) == "https://jira.example.com/rest/api/2/search"
    assert "**Issues of 3** (2)" in first.text
    second, fake = await run(
        jira_descriptions,
        "jira_search_issues",
        {"jql": "project = EX", "limit": 2, "cursor": first.structured["next_cursor"]},
        {"searchUsingSearchRequest": search},
        DATA_CENTER_PAT,
    )
    assert body(fake.requests[0])["startAt"] == 2
    assert second.structured is not None and "next_cursor" not in second.structured


async def test_get_issue_shows_custom_fields_by_name_and_the_description_as_markdown(
    jira_descriptions: Descriptions,
) -> None:
    issue = fixture_body("getIssue")
    issue["names"] = {"customfield_10016": "Story Points"}
    issue["fields"].update(
        summary="Checkout fails",
        customfield_10016=8,
        description={
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Steps", "marks": [{"type": "strong"}]}]}
            ],
        },
    )
    result, _ = await run(jira_descriptions, "jira_get_issue", {"issue": "EX-1"}, {"getIssue": issue})
    assert not result.is_error, result.text
    assert result.structured is not None
    assert result.structured["fields"]["Story Points"] == "8"
    assert result.structured["description"] == "**Steps**"
    assert "- Story Points: 8" in result.text and "### Description\n\n**Steps**" in result.text


async def test_create_issue_sends_adf_and_shapes_named_fields(jira_descriptions: Descriptions) -> None:
    result, fake = await run(
        jira_descriptions,
        "jira_create_issue",
        {
            "project": "EX",
            "issue_type": "Story",
            "summary": "Checkout fails",
            "description": "**Steps**",
            "fields": {"Story Points": 5, "Team": "Platform", "Release notes": "Fixed *checkout*"},
        },
    )
    assert not result.is_error, result.text
    sent = body(fake.requests[-1])["fields"]
    assert sent["project"] == {"key": "EX"} and sent["issuetype"] == {"name": "Story"}
    assert sent["description"]["content"][0]["content"][0]["marks"] == [{"type": "strong"}]
    assert sent["customfield_10016"] == 5
    assert sent["customfield_10001"] == {"value": "Platform"}
    assert sent["customfield_10050"]["type"] == "doc"
    created = fixture_body("createIssue")
    assert result.structured == {
        "message": f"Created {created['key']}.",
        "key": created["key"],
        "id": created["id"],
        "url": f"https://your-domain.atlassian.net/browse/{created['key']}",
    }


async def test_data_center_writes_wiki_markup_and_user_names(jira_descriptions: Descriptions) -> None:
    result, fake = await run(
        jira_descriptions,
        "jira_add_comment",
        {"issue": "EX-1", "body": "**Done**, thanks [@Mia](mention:mia)"},
        deployment=DATA_CENTER_PAT,
    )
    assert not result.is_error, result.text
    assert body(fake.requests[0]) == {"body": "*Done*, thanks [~mia]"}
    result, fake = await run(
        jira_descriptions, "jira_assign_issue", {"issue": "EX-1", "assignee": "mia"}, deployment=DATA_CENTER_PAT
    )
    assert body(fake.requests[0]) == {"name": "mia"}


async def test_update_issue_refuses_nothing_and_conflicting_labels(jira_descriptions: Descriptions) -> None:
    nothing, fake = await run(jira_descriptions, "jira_update_issue", {"issue": "EX-1"})
    assert nothing.is_error and "nothing to change" in nothing.text and fake.requests == []
    both, fake = await run(
        jira_descriptions, "jira_update_issue", {"issue": "EX-1", "labels": ["a"], "add_labels": ["b"]}
    )
    assert both.is_error and "either labels" in both.text and fake.requests == []


async def test_unassigning_clears_the_field(jira_descriptions: Descriptions) -> None:
    result, fake = await run(jira_descriptions, "jira_assign_issue", {"issue": "EX-1"})
    assert not result.is_error, result.text
    assert fake.operation_ids == ["editIssue"]
    assert body(fake.requests[0]) == {"fields": {"assignee": None}}


async def test_transition_by_name_checks_required_fields_before_moving(jira_descriptions: Descriptions) -> None:
    transitions = fixture_body("getTransitions")
    transitions["transitions"][1]["fields"]["resolution"] = {
        "required": True,
        "name": "Resolution",
        "schema": {"type": "resolution"},
        "allowedValues": [{"name": "Fixed"}, {"name": "Won't Do"}],
    }
    result, fake = await run(
        jira_descriptions,
        "jira_transition_issue",
        {"issue": "EX-1", "transition": "qa review"},
        {"getTransitions": transitions},
    )
    assert result.is_error and result.outcome == "invalid"
    assert "`resolution` Resolution — resolution — one of: Fixed, Won't Do" in result.text
    assert fake.operation_ids == ["getTransitions"]
    result, fake = await run(
        jira_descriptions,
        "jira_transition_issue",
        {"issue": "EX-1", "transition": "QA Review", "resolution": "Fixed", "comment": "Ready"},
        {"getTransitions": transitions},
    )
    assert not result.is_error, result.text
    sent = body(fake.requests[-1])
    assert sent["transition"] == {"id": "711"} and sent["fields"] == {"resolution": {"name": "Fixed"}}
    assert sent["update"]["comment"][0]["add"]["body"]["type"] == "doc"
    assert "Moved EX-1 to Closed (QA Review)." in result.text


async def test_an_unavailable_transition_lists_the_available_ones(jira_descriptions: Descriptions) -> None:
    result, fake = await run(jira_descriptions, "jira_transition_issue", {"issue": "EX-1", "transition": "Reopen"})
    assert result.is_error and "Close Issue (id 2, to In Progress)" in result.text
    assert fake.operation_ids == ["getTransitions"]


async def test_binary_and_large_attachments_are_not_downloaded(jira_descriptions: Descriptions) -> None:
    jpeg = fixture_body("getAttachment") | {"filename": "picture.jpg", "mimeType": "image/jpeg"}
    result, fake = await run(
        jira_descriptions, "jira_get_attachment_content", {"attachment_id": "10000"}, {"getAttachment": jpeg}
    )
    assert result.is_error and "not a text file" in result.text
    assert fake.operation_ids == ["getAttachment"]
    big = fixture_body("getAttachment") | {"size": 50_000_000}
    result, fake = await run(
        jira_descriptions, "jira_get_attachment_content", {"attachment_id": "10000"}, {"getAttachment": big}
    )
    assert result.is_error and "50,000,000 bytes" in result.text
    assert fake.operation_ids == ["getAttachment"]


async def test_text_attachments_are_read_within_the_cap(jira_descriptions: Descriptions) -> None:
    long_text = "line\n" * 10_000
    result, fake = await run(
        jira_descriptions,
        "jira_get_attachment_content",
        {"attachment_id": "10000", "max_chars": 1000},
        {"getAttachmentContent": lambda request: httpx.Response(200, text=long_text)},
    )
    assert not result.is_error, result.text
    assert fake.requests[-1].url.params["redirect"] == "false"
    assert result.structured is not None and result.structured["truncated"] is True
    assert "…[truncated: 1,000 of 50,000 characters shown" in result.text


async def test_an_upload_is_multipart_with_atlassians_header(jira_descriptions: Descriptions) -> None:
    result, fake = await run(
        jira_descriptions, "jira_add_attachment", {"issue": "EX-1", "filename": "notes.md", "content": "# Hi"}
    )
    assert not result.is_error, result.text
    request = fake.requests[0]
    assert request.headers["x-atlassian-token"] == "no-check"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'filename="notes.md"' in request.content and b"# Hi" in request.content


async def test_e_mail_lookup_says_when_the_site_hides_addresses(jira_descriptions: Descriptions) -> None:
    shown = [
        {"accountId": "a1", "displayName": "Mia", "emailAddress": "mia@example.com"},
        {"accountId": "a2", "displayName": "Mia B"},
    ]
    result, _ = await run(
        jira_descriptions,
        "jira_find_user_by_email",
        {"email": "MIA@example.com"},
        {"findUsers": lambda r: httpx.Response(200, json=shown)},
    )
    assert result.structured is not None and [u["id"] for u in result.structured["items"]] == ["a1"]
    hidden = [{"accountId": "a2", "displayName": "Mia B"}]
    result, _ = await run(
        jira_descriptions,
        "jira_find_user_by_email",
        {"email": "mia@example.com"},
        {"findUsers": lambda r: httpx.Response(200, json=hidden)},
    )
    assert "hides e-mail addresses" in result.text


async def test_bulk_get_lists_what_was_not_found(jira_descriptions: Descriptions) -> None:
    result, fake = await run(jira_descriptions, "jira_get_issues", {"issues": ["EX-1", "NOPE-9"]})
    assert not result.is_error, result.text
    assert body(fake.requests[0])["issueIdsOrKeys"] == ["EX-1", "NOPE-9"]
    assert result.structured is not None and "NOPE-9" in result.structured["not_found"]
    assert "Not found, or not visible to the connected account" in result.text


async def test_the_link_direction_reads_from_the_issue(jira_descriptions: Descriptions) -> None:
    result, fake = await run(
        jira_descriptions, "jira_create_issue_link", {"issue": "EX-1", "link_type": "Blocks", "other_issue": "EX-2"}
    )
    assert not result.is_error, result.text
    assert body(fake.requests[0]) == {
        "type": {"name": "Blocks"},
        "inwardIssue": {"key": "EX-1"},
        "outwardIssue": {"key": "EX-2"},
    }


async def test_ids_that_could_change_the_path_are_refused(jira_descriptions: Descriptions) -> None:
    for arguments in ({"issue": "../admin"}, {"issue": "EX-1/comment"}, {"issue": "EX 1"}):
        result, fake = await run(jira_descriptions, "jira_get_issue", arguments)
        assert result.is_error and result.outcome == "invalid" and fake.requests == []
