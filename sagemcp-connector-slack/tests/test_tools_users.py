"""Group `users`: people (list, info, by email, by @handle) and user groups."""

from __future__ import annotations

from slack_support import FakeSlack, fixture, run


def members(*users: dict[str, object], next_cursor: str = "") -> dict[str, object]:
    return {"ok": True, "members": list(users), "response_metadata": {"next_cursor": next_cursor}}


def person(uid: str, handle: str, display: str = "", real: str = "", **extra: object) -> dict[str, object]:
    return {
        "id": uid,
        "name": handle,
        "real_name": real,
        "profile": {"display_name": display, "real_name": real},
        **extra,
    }


async def test_list_people_skips_bots_and_deactivated(slack: FakeSlack) -> None:
    slack.on(
        "users.list",
        members(
            person(
                "U01",
                "ann",
                "Ann",
                "Ann Lee",
                profile={"display_name": "Ann", "email": "ann@example.com", "title": "CTO"},
            ),
            person("U02", "robot", is_bot=True),
            person("U03", "gone", deleted=True),
            person("USLACKBOT", "slackbot"),
            next_cursor="dXNlcjpVMEc5V0ZYTlo=",
        ),
    )
    call = await run(slack, "slack_list_users", {"limit": 50})
    assert slack.args("users.list") == {"limit": "50"}
    assert [u["id"] for u in call.structured["items"]] == ["U01"]
    assert call.structured["items"][0]["email"] == "ann@example.com"
    assert call.structured["items"][0]["title"] == "CTO"
    assert call.structured["next_cursor"]
    with_all = await run(slack, "slack_list_users", {"include_bots": True, "include_deactivated": True})
    assert [u["id"] for u in with_all.structured["items"]] == ["U01", "U02", "U03", "USLACKBOT"]


async def test_user_info_by_id(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_user", {"user": "W012A3CDE"})
    assert slack.args("users.info") == {"user": "W012A3CDE"}
    assert call.structured == {
        "id": "W012A3CDE",
        "handle": "spengler",
        "display_name": "spengler",
        "real_name": "Egon Spengler",
        "email": "spengler@ghostbusters.example.com",
        "is_bot": False,
        "is_admin": True,
        "deleted": False,
        "timezone": "America/Los_Angeles",
        "status": ":books: Print is dead",
    }


async def test_user_info_by_email_uses_the_lookup(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_user", {"user": "spengler@ghostbusters.example.com"})
    assert slack.methods() == ["users.lookupByEmail"]
    assert call.structured["handle"] == "spengler"


async def test_lookup_by_email(slack: FakeSlack) -> None:
    call = await run(slack, "slack_find_user_by_email", {"email": "spengler@ghostbusters.example.com"})
    assert slack.args("users.lookupByEmail") == {"email": "spengler@ghostbusters.example.com"}
    assert call.structured["id"] == "W012A3CDE"


async def test_lookup_by_email_not_found(slack: FakeSlack) -> None:
    slack.on("users.lookupByEmail", {"ok": False, "error": "users_not_found"})
    call = await run(slack, "slack_find_user_by_email", {"email": "nobody@example.com"})
    assert call.is_error
    assert "users_not_found" in call.text and "no user has that email" in call.text


async def test_lookup_by_handle_prefers_the_handle_over_display_names(slack: FakeSlack) -> None:
    slack.on(
        "users.list",
        members(person("U01", "annie", display="ann"), next_cursor="next"),
        members(person("U02", "ann", display="Ann B")),
    )
    call = await run(slack, "slack_find_user_by_handle", {"handle": "@Ann"})
    assert call.structured["id"] == "U02"
    assert [slack.args("users.list", i).get("cursor") for i in range(2)] == [None, "next"]


async def test_lookup_by_handle_falls_back_to_display_name(slack: FakeSlack) -> None:
    slack.on("users.list", members(person("U01", "annie", display="ann")))
    call = await run(slack, "slack_find_user_by_handle", {"handle": "ann"})
    assert call.structured["id"] == "U01"


async def test_lookup_by_handle_not_found(slack: FakeSlack) -> None:
    slack.on("users.list", members(person("U01", "annie")))
    call = await run(slack, "slack_find_user_by_handle", {"handle": "@zed"})
    assert call.is_error and "no user with the handle" in call.text


async def test_usergroups(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_user_groups")
    assert slack.args("usergroups.list") == {"include_count": "true", "include_disabled": "false"}
    groups = call.structured["items"]
    assert [(g["handle"], g.get("user_count"), g["disabled"]) for g in groups] == [
        ("admins", 2, False),
        ("owners", 1, False),
        ("marketing-team", 0, True),
    ]
    assert "@admins" in call.text


async def test_usergroup_members_by_handle(slack: FakeSlack) -> None:
    slack.on("users.info", {"ok": True, "user": {"id": "U060R4BJ4", "name": "mel", "profile": {"display_name": "Mel"}}})
    call = await run(slack, "slack_list_user_group_members", {"usergroup": "@admins", "limit": 1})
    assert slack.methods() == ["usergroups.list", "usergroups.users.list", "users.info"]
    assert slack.args("usergroups.users.list") == {"usergroup": "S0614TZR7"}
    assert call.structured["items"] == [{"id": "U060R4BJ4", "name": "Mel"}]
    following = await run(
        slack, "slack_list_user_group_members", {"usergroup": "S0614TZR7", "cursor": call.structured["next_cursor"]}
    )
    assert following.structured["items"][0]["id"] == "W123A4BC5"
    assert following.structured.get("next_cursor") is None


async def test_usergroup_unknown_handle(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_user_group_members", {"usergroup": "@nobody"})
    assert call.is_error and "no user group has the handle @nobody" in call.text


def test_fixture_sources_are_labelled() -> None:
    assert fixture("users.list")["members"]
