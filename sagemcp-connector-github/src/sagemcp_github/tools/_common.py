"""Helpers shared by the tool groups: bounding file patches, and GitHub search requests and pages.

The `query` of every search tool is passed to GitHub unchanged as its `q` parameter:
it is GitHub's own query language (`repo:owner/name is:open label:bug`), which the
model writes on purpose. Every other argument is a typed parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from sagemcp import UpstreamResponse

from .._pagination import next_cursor, page_params
from ..models import PATCH_LIMIT, FileChange

__all__ = ["PATCH_BUDGET", "Order", "Query", "bounded_files", "search_params", "search_result"]

Order = Annotated[Literal["desc", "asc"], Field(description="Sort order (with `sort`).")]


def Query(example: str) -> FieldInfo:
    """The `query` field of a search tool, with an example of GitHub's search syntax."""
    info: FieldInfo = Field(
        min_length=1,
        max_length=256,
        description=f"GitHub search query, passed as is (GitHub's search syntax), e.g. `{example}`.",
    )
    return info


def search_params(
    query: str, sort: str | None, order: str, limit: int, cursor: str | None, maximum: int = 100
) -> dict[str, Any]:
    """The query string of a GitHub search request."""
    return {"q": query, "sort": sort, "order": order if sort else None, **page_params(limit, cursor, maximum=maximum)}


PATCH_BUDGET = 40_000
"""Characters of patches shown in one result, across all its files."""


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
    data = response.json_object()
    return result_cls(
        items=[item(i) for i in response.json_list("items", of=dict)],
        next_cursor=next_cursor(response),
        total_count=data.get("total_count") or 0,
        incomplete_results=bool(data.get("incomplete_results")),
    )
