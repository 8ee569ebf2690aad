"""Representative arguments for every tool; `test_contract.py` checks each request they make against the
descriptions, on Jira Cloud (API token and OAuth) and on Data Center."""

from __future__ import annotations

USER = "5b10a2844c20165700ede21g"

CASES: list[tuple[str, dict[str, object]]] = [
    # issues
    ("jira_search_issues", {"jql": "project = EX ORDER BY updated DESC"}),
    ("jira_search_issues", {"jql": "assignee = currentUser()", "fields": ["labels", "duedate"], "limit": 5}),
    ("jira_search_issues", {"jql": "project = EX", "fields": ["Description"]}),
    ("jira_count_issues", {"jql": "project = EX AND resolution = Unresolved"}),
    ("jira_get_issue", {"issue": "EX-1"}),
    ("jira_get_issue", {"issue": "10002", "comments": 0, "changes": 0}),
    ("jira_get_issues", {"issues": ["EX-1", "ED-1"]}),
    ("jira_list_issue_changelog", {"issue": "EX-1"}),
    ("jira_get_create_metadata", {"project": "EX"}),
    ("jira_get_create_metadata", {"project": "EX", "issue_type": "Bug"}),
    ("jira_get_create_metadata", {"project": "10000", "issue_type": "1"}),
    ("jira_get_edit_metadata", {"issue": "EX-1"}),
    (
        "jira_create_issue",
        {
            "project": "EX",
            "issue_type": "Bug",
            "summary": "Checkout fails",
            "description": "Steps:\n\n1. Add to cart\n2. **Pay**",
            "priority": "High",
            "labels": ["checkout"],
            "components": ["Web"],
            "assignee": USER,
            "due_date": "2024-06-01",
        },
    ),
    (
        "jira_create_issue",
        {
            "project": "EX",
            "issue_type": "10001",
            "summary": "Sub-task",
            "parent": "EX-1",
            "fields": {"Description": "*x*"},
        },
    ),
    ("jira_update_issue", {"issue": "EX-1", "summary": "New title", "description": "New *text*", "notify": False}),
    ("jira_update_issue", {"issue": "EX-1", "add_labels": ["a"], "remove_labels": ["b"], "due_date": "2024-07-01"}),
    ("jira_assign_issue", {"issue": "EX-1", "assignee": USER}),
    ("jira_assign_issue", {"issue": "EX-1"}),
    ("jira_delete_issue", {"issue": "EX-1", "delete_subtasks": True}),
    # comments
    ("jira_list_comments", {"issue": "EX-1"}),
    ("jira_list_comments", {"issue": "EX-1", "order": "oldest", "limit": 2}),
    ("jira_add_comment", {"issue": "EX-1", "body": "Looks good, [@Mia Krystof](mention:5b10a2844c20165700ede21g)"}),
    ("jira_add_comment", {"issue": "EX-1", "body": "Internal note", "visible_to": "Developers"}),
    ("jira_update_comment", {"issue": "EX-1", "comment_id": "10000", "body": "Edited"}),
    ("jira_delete_comment", {"issue": "EX-1", "comment_id": "10000"}),
    # transitions
    ("jira_list_transitions", {"issue": "EX-1"}),
    ("jira_transition_issue", {"issue": "EX-1", "transition": "2"}),
    ("jira_transition_issue", {"issue": "EX-1", "transition": "QA Review", "comment": "Ready for QA"}),
    # links
    ("jira_list_link_types", {}),
    ("jira_list_issue_links", {"issue": "EX-1"}),
    ("jira_create_issue_link", {"issue": "EX-1", "link_type": "Blocks", "other_issue": "EX-2", "comment": "Blocks it"}),
    ("jira_delete_issue_link", {"link_id": "10001"}),
    ("jira_list_remote_links", {"issue": "EX-1"}),
    ("jira_add_remote_link", {"issue": "EX-1", "url": "https://example.com/pr/1", "title": "PR #1", "summary": "Fix"}),
    # worklogs
    ("jira_list_worklogs", {"issue": "EX-1"}),
    (
        "jira_add_worklog",
        {"issue": "EX-1", "time_spent": "1h 30m", "comment": "Pairing", "started": "2024-05-01T09:00:00.000+0000"},
    ),
    # attachments
    ("jira_list_attachments", {"issue": "EX-1"}),
    ("jira_get_attachment_content", {"attachment_id": "10000"}),
    (
        "jira_add_attachment",
        {"issue": "EX-1", "filename": "notes.md", "content": "# Notes\n", "mime_type": "text/markdown"},
    ),
    # watchers
    ("jira_list_watchers", {"issue": "EX-1"}),
    ("jira_add_watcher", {"issue": "EX-1", "user": USER}),
    ("jira_add_watcher", {"issue": "EX-1"}),
    ("jira_remove_watcher", {"issue": "EX-1", "user": USER}),
    # projects
    ("jira_list_projects", {}),
    ("jira_list_projects", {"query": "Example", "limit": 10}),
    ("jira_get_project", {"project": "EX"}),
    ("jira_list_components", {"project": "EX"}),
    ("jira_list_issue_types", {}),
    ("jira_list_issue_types", {"project": "EX"}),
    ("jira_list_statuses", {"project": "EX"}),
    ("jira_list_fields", {"query": "summary"}),
    ("jira_list_fields", {"custom_only": True}),
    # versions
    ("jira_list_versions", {"project": "EX", "status": "unreleased", "query": "1."}),
    ("jira_get_version", {"version_id": "10000"}),
    ("jira_create_version", {"project": "EX", "name": "2.4.0", "release_date": "2024-06-30", "description": "Summer"}),
    ("jira_create_version", {"project": "10000", "name": "2.5.0"}),
    # agile
    ("jira_list_boards", {}),
    ("jira_list_boards", {"project": "EX", "type": "scrum", "name": "Team"}),
    ("jira_get_board", {"board_id": 84}),
    ("jira_get_board_configuration", {"board_id": 84}),
    ("jira_list_sprints", {"board_id": 84, "state": ["active", "future"]}),
    ("jira_get_sprint", {"sprint_id": 37}),
    (
        "jira_create_sprint",
        {
            "board_id": 84,
            "name": "Sprint 9",
            "start_date": "2024-05-01",
            "end_date": "2024-05-14T17:00:00.000+02:00",
            "goal": "Ship it",
        },
    ),
    ("jira_update_sprint", {"sprint_id": 37, "state": "active", "goal": "New goal"}),
    ("jira_list_sprint_issues", {"sprint_id": 37}),
    ("jira_list_sprint_issues", {"sprint_id": 37, "jql": "assignee = currentUser()", "fields": ["labels"]}),
    ("jira_move_issues_to_sprint", {"sprint_id": 37, "issues": ["EX-1", "EX-2"]}),
    ("jira_list_backlog_issues", {"board_id": 84}),
    ("jira_move_issues_to_backlog", {"issues": ["EX-1"]}),
    ("jira_list_epics", {"board_id": 84, "done": False}),
    ("jira_list_epic_issues", {"epic": "EX-10"}),
    # users
    ("jira_get_current_user", {}),
    ("jira_search_users", {"query": "mia"}),
    ("jira_find_assignable_users", {"issue": "EX-1", "query": "mia"}),
    ("jira_find_assignable_users", {"project": "EX"}),
    ("jira_get_user", {"user": USER}),
    ("jira_find_user_by_email", {"email": "mia@example.com"}),
]
