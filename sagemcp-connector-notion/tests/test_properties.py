"""Page properties shown compactly and written from plain values; filters and sorts checked against the schema."""

from __future__ import annotations

from typing import Any

import pytest
from notion_support import fixture_body

from sagemcp.errors import InvalidArguments
from sagemcp_notion._filters import check_filter, check_sorts
from sagemcp_notion._properties import property_config, property_values, render_value

SCHEMA: dict[str, Any] = fixture_body("retrieve-a-data-source.tasks")["properties"]
ROW: dict[str, Any] = fixture_body("retrieve-a-page.row")["properties"]
RELATED = "393abc1e-edcd-8165-8d21-cc32a3d05895"


def test_every_property_type_renders_compactly() -> None:
    shown = {name: render_value(value, {RELATED: "Roadmap"}) for name, value in ROW.items()}
    assert shown == {
        "Name": "Write the spec",
        "Status": "Done",
        "Priority": "High",
        "Tags": "api",
        "Due": "2026-07-06 10:00+02:00 → 12:00+02:00 (Europe/Paris)",
        "Estimate": "3",
        "Done": "yes",
        "Owner": "notion-sdk-py",
        "Notes": "Ask first",
        "Link": "https://example.com/spec",
        "Project": "Roadmap",
        "Score": "6",
        "Files": "spec.pdf",
        "Created": "2026-07-04 09:08Z",
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"type": "rollup", "rollup": {"type": "array", "array": [{"type": "number", "number": 2.0}]}}, "2"),
        ({"type": "rollup", "rollup": {"type": "date", "date": {"start": "2026-01-05"}}}, "2026-01-05"),
        ({"type": "formula", "formula": {"type": "boolean", "boolean": False}}, "no"),
        ({"type": "unique_id", "unique_id": {"prefix": "TASK", "number": 7}}, "TASK-7"),
        ({"type": "relation", "relation": [{"id": "abc"}], "has_more": True}, "abc …"),
        (
            {"type": "date", "date": {"start": "2026-01-05", "end": "2026-01-09", "time_zone": None}},
            "2026-01-05 → 2026-01-09",
        ),
    ],
)
def test_rollups_formulas_ids_relations_and_dates(value: dict[str, Any], shown: str) -> None:
    assert render_value(value) == shown


def test_plain_values_become_notion_property_values() -> None:
    user = "7775f3a3-893f-43fa-b625-460c61094c78"
    values = property_values(
        SCHEMA,
        {
            "status": "Backlog",  # matched case-insensitively
            "Priority": "Urgent",  # a new select option: Notion creates it
            "Tags": "api, docs",
            "Due": ["2026-07-06", "2026-07-08"],
            "Estimate": "2.5",
            "Done": "no",
            "Owner": [user.replace("-", "")],
            "Notes": "Ask **first**",
            "Link": None,
            "Project": [f"https://www.notion.so/Roadmap-{RELATED.replace('-', '')}"],
            "Files": ["https://example.com/a/spec.pdf"],
        },
    )
    assert values == {
        "Status": {"status": {"name": "Backlog"}},
        "Priority": {"select": {"name": "Urgent"}},
        "Tags": {"multi_select": [{"name": "api"}, {"name": "docs"}]},
        "Due": {"date": {"start": "2026-07-06", "end": "2026-07-08"}},
        "Estimate": {"number": 2.5},
        "Done": {"checkbox": False},
        "Owner": {"people": [{"object": "user", "id": user}]},
        "Notes": {
            "rich_text": [
                {"type": "text", "text": {"content": "Ask "}},
                {"type": "text", "text": {"content": "first"}, "annotations": {"bold": True}},
            ]
        },
        "Link": {"url": None},
        "Project": {"relation": [{"id": RELATED}]},
        "Files": {
            "files": [{"name": "spec.pdf", "type": "external", "external": {"url": "https://example.com/a/spec.pdf"}}]
        },
    }


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"Stage": "x"}, "'Stage' is not a property of this data source"),
        ({"Score": 3}, "'Score' is a formula property, which Notion computes"),
        ({"Estimate": "many"}, "'Estimate' is a number property and takes a number"),
        ({"Status": "Doing"}, "'Doing' is not a status of property 'Status'; choose one of: Backlog, Done"),
        ({"Due": {"start": "2026-01-01", "when": "soon"}}, "'Due' is a date property"),
        ({"Owner": ["bob"]}, "'Owner' is a people property"),
        ({"Files": ["http://insecure"]}, "'Files' is a files property and takes a list of https URLs"),
        ({"Done": 1}, "'Done' is a checkbox property and takes true or false"),
    ],
)
def test_a_bad_value_is_refused_naming_the_property(values: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidArguments) as raised:
        property_values(SCHEMA, values)
    assert named in raised.value.message
    assert raised.value.errors[0][0].startswith("properties.")


def test_schema_specs_become_property_configurations() -> None:
    assert property_config("S", {"type": "select", "options": ["A", "B"]}, "p") == {
        "select": {"options": [{"name": "A"}, {"name": "B"}]}
    }
    assert property_config(
        "R", {"type": "relation", "data_source_id": RELATED.replace("-", ""), "dual": True}, "p"
    ) == {"relation": {"data_source_id": RELATED, "type": "dual_property", "dual_property": {}}}
    assert property_config("N", {"name": "Renamed"}, "p") == {"name": "Renamed"}
    assert property_config("X", {"number": {"format": "euro"}}, "p") == {"number": {"format": "euro"}}
    with pytest.raises(InvalidArguments, match="'colour' is not a Notion property type"):
        property_config("C", {"type": "colour"}, "p")


def test_a_valid_filter_is_passed_on_with_the_schema_names() -> None:
    given = {
        "or": [
            {"property": "status", "status": {"equals": "Done"}},
            {
                "and": [
                    {"property": "Tags", "multi_select": {"contains": "api"}},
                    {"property": "Due", "date": {"next_week": {}}},
                ]
            },
            {"property": "Score", "formula": {"number": {"greater_than": 5}}},
            {"timestamp": "last_edited_time", "last_edited_time": {"after": "2026-01-01"}},
            {"property": "Owner", "people": {"contains": "me"}},
            {"property": "Estimate", "number": {"is_empty": True}},
        ]
    }
    checked = check_filter(given, SCHEMA)
    assert checked["or"][0] == {"property": "Status", "status": {"equals": "Done"}}
    assert checked["or"][1:] == given["or"][1:]


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ({"property": "Stage", "select": {"equals": "x"}}, "filter.property: 'Stage' is not a property"),
        (
            {"property": "Status", "select": {"equals": "x"}},
            "filter.select: 'Status' is a status property: key its condition 'status'",
        ),
        ({"property": "Estimate", "number": {"bigger_than": 3}}, "'bigger_than' does not apply to 'Estimate'"),
        ({"property": "Estimate", "number": {"equals": "3"}}, "filter.number.equals: 'equals' takes a number"),
        ({"property": "Due", "date": {"after": "soon"}}, "'after' takes an ISO 8601 date"),
        ({"and": [{"or": [{"and": [{"property": "Done", "checkbox": {"equals": True}}]}]}]}, "at most 2 levels deep"),
        ({"and": []}, "filter.and: must be a non-empty list"),
        ({"timestamp": "created", "created": {}}, "filter.timestamp: must be one of created_time, last_edited_time"),
        (
            {"property": "Score", "formula": {"text": {"equals": "a"}}},
            "a formula condition is keyed by its result type",
        ),
        ({"property": "Files", "files": {"contains": "x"}}, "'contains' does not apply to 'Files'"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_problem(filter_: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArguments) as raised:
        check_filter(filter_, SCHEMA)
    assert message in raised.value.message


def test_sorts_are_checked() -> None:
    assert check_sorts([{"property": "due"}, {"timestamp": "created_time", "direction": "descending"}], SCHEMA) == [
        {"property": "Due", "direction": "ascending"},
        {"timestamp": "created_time", "direction": "descending"},
    ]
    with pytest.raises(InvalidArguments, match="'Deadline' is not a property"):
        check_sorts([{"property": "Deadline"}], SCHEMA)
    with pytest.raises(InvalidArguments, match="must be ascending or descending"):
        check_sorts([{"property": "Due", "direction": "up"}], SCHEMA)
