"""Helpers shared by the tool groups: reading GitHub's JSON safely and bounding file patches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from sagemcp.errors import UpstreamBadResponse
from sagemcp.upstream import UpstreamResponse

from .._pagination import next_cursor
from ..models import PATCH_LIMIT, FileChange

__all__ = ["PATCH_BUDGET", "bounded_files", "json_list", "json_object"]

PATCH_BUDGET = 40_000
"""Characters of patches shown in one result, across all its files."""


def _shape_error(response: UpstreamResponse, expected: str) -> UpstreamBadResponse:
    return UpstreamBadResponse(
        f"GitHub answered {response.method} {response.path} with JSON of an unexpected shape "
        f"(expected {expected}); the API may have changed: try again, or report it",
        status=response.status,
        provider=response.provider,
    )


def json_object(response: UpstreamResponse) -> dict[str, Any]:
    """The body as a JSON object, or `UpstreamBadResponse`."""
    data = response.json()
    if not isinstance(data, dict):
        raise _shape_error(response, "an object")
    return data


def json_list(response: UpstreamResponse, key: str | None = None) -> list[dict[str, Any]]:
    """The body (or its `key` member) as a list of JSON objects, or `UpstreamBadResponse`."""
    data = response.json()
    if key is not None:
        data = data.get(key) if isinstance(data, dict) else None
    if not isinstance(data, list):
        raise _shape_error(response, "a list" if key is None else f"an object with a {key!r} list")
    return [item for item in data if isinstance(item, dict)]


def bounded_files(
    files: list[dict[str, Any]], *, max_files: int | None = None, budget: int = PATCH_BUDGET
) -> tuple[list[FileChange], int]:
    """Changed files with their patches, at most `max_files` of them and `budget` characters of patches.

    Patches past the budget are left out with `patch_truncated` set; returns the files and how many were omitted.
    """
    shown = files if max_files is None else files[:max_files]
    out: list[FileChange] = []
    left = budget
    for raw in shown:
        if left > 0:
            change = FileChange.from_api(raw, patch_limit=min(PATCH_LIMIT, left))
            left -= len(change.patch or "")
        else:
            change = FileChange.from_api(raw)
            if change.patch is not None:
                change = change.model_copy(update={"patch": None, "patch_truncated": True})
        out.append(change)
    return out, len(files) - len(shown)


SearchResultT = TypeVar("SearchResultT", bound=BaseModel)


def search_result(
    result_cls: type[SearchResultT], response: UpstreamResponse, item: Callable[[dict[str, Any]], Any]
) -> SearchResultT:
    """A search page: the converted `items`, the next cursor, GitHub's total and its incomplete flag."""
    data = json_object(response)
    return result_cls(
        items=[item(i) for i in json_list(response, "items")],
        next_cursor=next_cursor(response),
        total_count=data.get("total_count") or 0,
        incomplete_results=bool(data.get("incomplete_results")),
    )
