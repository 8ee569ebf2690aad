"""Repositories, contents and trees, branches, commits, releases: decoding, bounding and the requests sent."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from github_support import fixture_body, fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector
from sagemcp_github.tools._common import PATCH_BUDGET
from sagemcp_github.tools.repos import FILE_CHAR_LIMIT, RAW_FETCH_LIMIT

REPO = {"owner": "octocat", "repo": "Hello-World"}
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def file_answer(text: bytes, **fields: Any) -> httpx.Response:
    body = fixture_body("repos/get-content")
    body.update(content=base64.encodebytes(text).decode(), size=len(text), **fields)
    return httpx.Response(200, json=body)


async def read(path: str = "README.md", **arguments: Any):  # type: ignore[no-untyped-def]
    handler = arguments.pop("handler")
    return await call_tool(
        GitHubConnector, "github_get_file_content", {**REPO, "path": path, **arguments}, handler=handler
    )


# -- file contents ---------------------------------------------------------------------------


async def test_file_content_is_decoded() -> None:
    result = await read(handler=lambda request: fixture_response("repos/get-content"))
    assert not result.is_error, result.text
    data = result.structured
    assert data is not None
    assert data["content"].startswith("# Hello World\n\nThis repository")
    assert data["type"] == "file"
    assert data["sha"] == "3d21ec53a331a6f037a91c368710b99387d012c1"
    assert data["total_lines"] == 11 and data["start_line"] == 1 and data["end_line"] == 11
    assert data["truncated"] is False and data["binary"] is False


async def test_ref_and_path_are_encoded() -> None:
    result = await read(
        "docs/my notes/ä.md", ref="feature/x", handler=lambda request: fixture_response("repos/get-content")
    )
    assert (
        result.request.url.raw_path == b"/repos/octocat/Hello-World/contents/docs/my%20notes/%C3%A4.md?ref=feature%2Fx"
    )


async def test_binary_files_are_detected_not_dumped() -> None:
    result = await read("docs/logo.png", handler=lambda request: fixture_response("repos/get-content.binary"))
    data = result.structured
    assert data is not None
    assert data["binary"] is True
    assert "content" not in data
    assert "Binary file" in data["note"] and "download_url" in data["note"]
    assert "PNG" not in result.text


async def test_latin1_text_counts_as_binary() -> None:
    result = await read(handler=lambda request: file_answer("café crème".encode("latin-1")))
    assert result.structured["binary"] is True  # type: ignore[index]


async def test_large_files_are_cut_at_a_line_with_a_marker_and_can_be_continued() -> None:
    lines = [f"line {n}: " + "x" * 90 + "\n" for n in range(1, 1001)]  # about 100,000 characters
    text = "".join(lines).encode()
    first = await read(handler=lambda request: file_answer(text))
    data = first.structured
    assert data is not None and data["truncated"] is True
    end = data["end_line"]
    assert 300 < end < 500
    assert len(data["content"]) <= FILE_CHAR_LIMIT + 200
    assert data["content"].endswith(
        f"\n…[truncated: {end} of 1,000 lines shown; these are lines 1-{end}; call github_get_file_content with "
        f"start_line={end + 1} for more]"
    )
    assert data["content"].startswith("line 1: ")

    rest = await read(start_line=end + 1, handler=lambda request: file_answer(text))
    data2 = rest.structured
    assert data2 is not None
    assert data2["start_line"] == end + 1
    assert data2["content"].startswith(f"line {end + 1}: ")


async def test_one_enormous_line_is_cut() -> None:
    result = await read("app.min.js", handler=lambda request: file_answer(b"a" * (FILE_CHAR_LIMIT * 2)))
    data = result.structured
    assert data is not None and data["truncated"] is True
    assert data["content"] == "a" * FILE_CHAR_LIMIT + (
        "…[truncated: 40,000 of 80,000 characters shown; the rest of line 1 is only in the file at download_url]"
    )


async def test_start_line_past_the_end() -> None:
    result = await read(start_line=99, handler=lambda request: fixture_response("repos/get-content"))
    assert result.is_error and "past the end" in result.text


async def test_files_over_one_megabyte_are_fetched_raw() -> None:
    text = b"big = True\n" * 100_000
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept"])
        if request.headers["accept"] == "application/vnd.github.raw+json":
            return httpx.Response(200, content=text)
        body = fixture_body("repos/get-content")
        body.update(content="", encoding="none", size=len(text))
        return httpx.Response(200, json=body)

    result = await read("big.py", handler=handler)
    assert seen == ["application/vnd.github+json", "application/vnd.github.raw+json"]
    assert result.structured["content"].startswith("big = True\n")  # type: ignore[index]
    assert result.structured["truncated"] is True  # type: ignore[index]


async def test_huge_files_are_only_described() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = fixture_body("repos/get-content")
        body.update(content="", encoding="none", size=RAW_FETCH_LIMIT + 1)
        return httpx.Response(200, json=body)

    result = await read("data.csv", handler=handler)
    assert len(result.requests) == 1
    data = result.structured
    assert data is not None and "content" not in data
    assert "too large to show" in data["note"]


async def test_directories_are_listed() -> None:
    result = await read("docs", handler=lambda request: fixture_response("repos/get-content.directory"))
    data = result.structured
    assert data is not None and data["type"] == "dir"
    assert [e["name"] for e in data["entries"]] == ["octokit.rb", "octokit"]
    assert data["entries"][1]["type"] == "dir"


async def test_big_directories_are_bounded() -> None:
    entries = [{"name": f"f{i}.txt", "path": f"d/f{i}.txt", "type": "file", "size": 1} for i in range(1000)]
    result = await read("d", handler=lambda request: httpx.Response(200, json=entries))
    data = result.structured
    assert data is not None and len(data["entries"]) == 300 and data["truncated"] is True
    assert data["note"] == (
        "…[truncated: 300 of 1,000 entries shown; page through them with github_get_repository_tree and path_prefix]"
    )


async def test_symlinks_and_submodules_show_their_target() -> None:
    body = {"type": "symlink", "target": "/path/to/symlink/target", "size": 23, "name": "l", "path": "l", "sha": SHA}
    result = await read("l", handler=lambda request: httpx.Response(200, json=body))
    assert result.structured["target"] == "/path/to/symlink/target"  # type: ignore[index]


# -- tree ----------------------------------------------------------------------------------


def tree_answer(count: int, truncated: bool = False) -> httpx.Response:
    entries = [{"path": "README.md", "type": "blob", "size": 10, "mode": "100644", "sha": SHA}]
    entries += [{"path": "src", "type": "tree", "mode": "040000", "sha": SHA}]
    entries += [{"path": f"src/m{i}.py", "type": "blob", "size": i, "mode": "100644", "sha": SHA} for i in range(count)]
    return httpx.Response(200, json={"sha": SHA, "url": "u", "tree": entries, "truncated": truncated})


async def test_tree_is_paged_here_and_filtered_by_prefix() -> None:
    args = {**REPO, "path_prefix": "src/", "limit": 100}
    first = await call_tool(GitHubConnector, "github_get_repository_tree", args, handler=lambda r: tree_answer(250))
    data = first.structured
    assert data is not None
    assert first.request.url.raw_path == b"/repos/octocat/Hello-World/git/trees/HEAD?recursive=1"
    assert data["total_entries"] == 251 and len(data["items"]) == 100
    assert data["items"][0] == {"path": "src", "type": "tree"}
    last = data
    pages = 1
    while last.get("next_cursor"):
        page = await call_tool(
            GitHubConnector,
            "github_get_repository_tree",
            {**args, "cursor": last["next_cursor"]},
            handler=lambda r: tree_answer(250),
        )
        last = page.structured  # type: ignore[assignment]
        pages += 1
    assert pages == 3 and len(last["items"]) == 51


async def test_tree_of_a_directory_without_recursion_lists_its_direct_children() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        entries = [
            {"path": p, "type": kind, "mode": "100644", "sha": SHA}
            for p, kind in [("README.md", "blob"), ("src", "tree"), ("src/a.py", "blob"), ("src/pkg", "tree"),
                            ("src/pkg/b.py", "blob"), ("srcx", "tree")]
        ]  # fmt: skip
        return httpx.Response(200, json={"sha": SHA, "url": "u", "tree": entries, "truncated": False})

    args = {**REPO, "path_prefix": "src", "recursive": False}
    result = await call_tool(GitHubConnector, "github_get_repository_tree", args, handler=answer)
    # GitHub's non-recursive tree holds only the top level, so the directory's entries need the recursive one.
    assert result.request.url.params["recursive"] == "1"
    assert [e["path"] for e in result.structured["items"]] == ["src/a.py", "src/pkg"]  # type: ignore[index]


async def test_tree_reports_githubs_own_truncation() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_get_repository_tree",
        {**REPO, "ref": "v1.0", "recursive": False},
        handler=lambda r: tree_answer(3, truncated=True),
    )
    assert result.structured["truncated_by_github"] is True  # type: ignore[index]
    assert "recursive" not in result.request.url.params


# -- writing files and branches ----------------------------------------------------------------


async def test_update_file_sends_base64_and_sha() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_update_file",
        {**REPO, "path": "docs/notes.md", "content": "# Notes – ünïcode\n", "message": "Add notes", "sha": SHA},
        handler=lambda request: fixture_response("repos/create-or-update-file-contents"),
    )
    assert result.request.method == "PUT"
    body = json.loads(result.request.content)
    assert base64.b64decode(body["content"]).decode() == "# Notes – ünïcode\n"
    assert body == {"message": "Add notes", "content": body["content"], "sha": SHA}
    assert result.structured["commit_sha"] == "18a43cd8e1e3a79c786e3d808a73d23b6d212b16"  # type: ignore[index]


async def test_create_file_sends_no_sha_and_update_file_needs_one() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_create_file",
        {**REPO, "path": "docs/new.md", "content": "new\n", "message": "Add new", "branch": "docs"},
        handler=lambda request: fixture_response("repos/create-or-update-file-contents"),
    )
    assert not result.is_error, result.text
    body = json.loads(result.request.content)
    assert body == {"message": "Add new", "content": base64.b64encode(b"new\n").decode(), "branch": "docs"}
    assert result.request.url.path == "/repos/octocat/Hello-World/contents/docs/new.md"
    refused = await call_tool(
        GitHubConnector,
        "github_update_file",
        {**REPO, "path": "docs/new.md", "content": "x", "message": "Edit"},
        handler=lambda request: httpx.Response(500),
    )
    assert refused.is_error and "sha" in refused.text


async def test_delete_file_sends_the_sha_in_the_body() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_delete_file",
        {**REPO, "path": "docs/old.md", "message": "Remove", "sha": SHA},
        handler=lambda request: fixture_response("repos/delete-file"),
    )
    assert result.request.method == "DELETE"
    assert json.loads(result.request.content) == {"message": "Remove", "sha": SHA}
    assert "sha" not in result.structured  # type: ignore[operator]


async def test_create_branch_resolves_the_start_point_then_creates_the_ref() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.headers["accept"] == "application/vnd.github.sha"
            return httpx.Response(200, text=SHA)
        return fixture_response("git/create-ref")

    result = await call_tool(
        GitHubConnector,
        "github_create_branch",
        {**REPO, "branch": "fix/typo", "from_ref": "release/1.x"},
        handler=handler,
    )
    get, post = result.requests
    assert get.url.raw_path == b"/repos/octocat/Hello-World/commits/release%2F1.x"
    assert json.loads(post.content) == {"ref": "refs/heads/fix/typo", "sha": SHA}
    assert result.structured["name"] == "fix/typo"  # type: ignore[index]


# -- commits ---------------------------------------------------------------------------------


async def test_get_commit_bounds_files_and_patches() -> None:
    commit = fixture_body("repos/get-commit")
    commit["files"] = [
        {
            "filename": f"f{i}.py",
            "status": "modified",
            "additions": 1,
            "deletions": 1,
            "patch": "@@ -1 +1 @@\n" + "+x\n" * 700,
        }
        for i in range(80)
    ]
    result = await call_tool(
        GitHubConnector,
        "github_get_commit",
        {**REPO, "ref": SHA},
        handler=lambda request: httpx.Response(200, json=commit),
    )
    data = result.structured
    assert data is not None
    assert len(data["files"]) == 50 and data["files_omitted"] == 30
    shown = sum(len(f.get("patch", "")) for f in data["files"])
    assert shown <= PATCH_BUDGET + 50 * 200
    assert data["files"][-1]["patch_truncated"] is True and "patch" not in data["files"][-1]
    assert data["message"] == "Fix all the bugs"


async def test_compare_lists_commits_and_counts() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_compare_commits",
        {**REPO, "base": "main", "head": "octocat:feature"},
        handler=lambda request: fixture_response("repos/compare-commits-with-basehead"),
    )
    data = result.structured
    assert data is not None
    assert data["status"] == "behind" and data["ahead_by"] == 1 and data["behind_by"] == 2
    assert data["commits"][0]["sha"] == SHA
    assert result.request.url.raw_path == b"/repos/octocat/Hello-World/compare/main...octocat%3Afeature"


async def test_repo_stats() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/languages"):
            return httpx.Response(200, json={"Python": 7500, "Shell": 2500})
        if request.url.path.endswith("/participation"):
            return httpx.Response(200, json={"all": [1] * 48 + [2, 3, 4, 5], "owner": [0] * 52})
        return fixture_response("repos/get")

    result = await call_tool(GitHubConnector, "github_get_repository_stats", REPO, handler=handler)
    data = result.structured
    assert data is not None
    assert data["languages"] == {"Python": 75.0, "Shell": 25.0}
    assert data["commits_last_52_weeks"] == 62 and data["commits_last_4_weeks"] == 14
    assert data["stars"] == 80 and "note" not in data


async def test_repo_stats_while_github_computes_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/participation"):
            return httpx.Response(202, json={})
        if request.url.path.endswith("/languages"):
            return httpx.Response(200, json={})
        return fixture_response("repos/get")

    result = await call_tool(GitHubConnector, "github_get_repository_stats", REPO, handler=handler)
    assert "still computing" in result.structured["note"]  # type: ignore[index]


async def test_empty_repository_has_no_contributors() -> None:
    result = await call_tool(GitHubConnector, "github_list_contributors", REPO, handler=lambda r: httpx.Response(204))
    assert result.structured == {"items": [], "truncated": False}


# -- repositories and releases -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({}, "/user/repos"),
        ({"org": "octo-org"}, "/orgs/octo-org/repos"),
        ({"username": "octocat"}, "/users/octocat/repos"),
    ],
)
async def test_list_repositories_chooses_the_endpoint(arguments: dict[str, str], path: str) -> None:
    result = await call_tool(
        GitHubConnector,
        "github_list_repositories",
        arguments,
        handler=lambda request: fixture_response("repos/list-for-org"),
    )
    assert result.request.url.path == path
    assert result.structured["items"][0]["full_name"] == "octocat/Hello-World"  # type: ignore[index]


async def test_list_repositories_org_or_user() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_list_repositories",
        {"org": "a", "username": "b"},
        handler=lambda r: httpx.Response(500),
    )
    assert result.is_error and "not both" in result.text


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({}, "/repos/octocat/Hello-World/releases/latest"),
        ({"tag": "v1.0.0"}, "/repos/octocat/Hello-World/releases/tags/v1.0.0"),
        ({"release_id": 1}, "/repos/octocat/Hello-World/releases/1"),
    ],
)
async def test_get_release(arguments: dict[str, Any], path: str) -> None:
    result = await call_tool(
        GitHubConnector,
        "github_get_release",
        {**REPO, **arguments},
        handler=lambda r: fixture_response("repos/get-release"),
    )
    assert result.request.url.path == path
    data = result.structured
    assert data is not None
    assert data["tag_name"] == "v1.0.0" and data["body"] == "Description of the release"
    assert data["assets"][0]["name"] == "example.zip"
