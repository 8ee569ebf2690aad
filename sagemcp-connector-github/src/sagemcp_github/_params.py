"""Parameter types shared by the tools, and safe construction of GitHub API paths.

Page sizes are core's `Limit` with GitHub's maxima (`per_page` is at most 100); the
cursor is core's `Cursor`.

Every value a caller gives that ends up in a URL path goes through `segment` (one
path segment: `/` is encoded) or `file_path` (a repository path: `/` separates
segments); both refuse empty, `.` and `..` segments, so no argument can climb out of
the endpoint it was meant for.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from pydantic import Field

from sagemcp import Limit
from sagemcp.errors import InvalidArguments

__all__ = [
    "MAX_PER_PAGE",
    "SMALL_PAGE",
    "IssueNumber",
    "Owner",
    "PageLimit",
    "PullNumber",
    "Ref",
    "Repo",
    "SmallPageLimit",
    "Username",
    "file_path",
    "repo_path",
    "segment",
]

Owner = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="User or organization login.",
    ),
]
Repo = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Repository name.",
    ),
]
Username = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="A GitHub login.",
    ),
]
IssueNumber = Annotated[int, Field(ge=1, description="The number after `#`.")]
PullNumber = Annotated[int, Field(ge=1, description="The number after `#`.")]
Ref = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="Branch, tag or commit SHA.",
    ),
]
MAX_PER_PAGE = 100
"""GitHub's largest `per_page`."""
SMALL_PAGE = 50
PageLimit = Annotated[int, Limit(maximum=MAX_PER_PAGE)]
SmallPageLimit = Annotated[int, Limit(maximum=SMALL_PAGE)]
"""For lists of large items (bodies, many fields): 50 of them stay well under 25,000 tokens."""


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")
"""Characters `quote(..., safe="")` leaves alone: a segment made only of them is its own encoding."""


def segment(value: str | int, name: str = "value") -> str:
    """`value` as one URL path segment, percent-encoded (`/` included)."""
    text = str(value)
    if text in ("", ".", ".."):
        raise InvalidArguments(
            f"{name} {text!r} is not a valid name: give the real {name}", errors=[(name, "empty, '.' or '..'")]
        )
    # Owners, repositories and numbers are nearly always plain: skip quote()'s encode and byte scan for them.
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def file_path(path: str, name: str = "path") -> str:
    """A repository file path as URL path segments; leading and trailing slashes are dropped."""
    parts = path.strip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidArguments(
            f"{name} {path!r} is not a valid repository path: use a path like `src/app.py`, "
            "without empty, '.' or '..' segments",
            errors=[(name, "empty, '.' or '..' segment")],
        )
    return "/".join(quote(part, safe="") for part in parts)


def repo_path(owner: str, repo: str, *rest: str | int) -> str:
    """`/repos/{owner}/{repo}` followed by already-encoded `rest` segments."""
    tail = "".join(f"/{part}" for part in rest)
    return f"/repos/{segment(owner, 'owner')}/{segment(repo, 'repo')}{tail}"
