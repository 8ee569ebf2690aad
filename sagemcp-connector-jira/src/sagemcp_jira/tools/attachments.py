"""`attachments` tools: an issue's attachments, the text of a small text attachment, and attaching a text file.

Reading content is bounded twice: only text-like attachments of at most `MAX_ATTACHMENT_BYTES` are
downloaded at all, and their text is cut to `max_chars` with the truncation marker.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated

import httpx
from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, clip, tool
from sagemcp.errors import InvalidArguments, UpstreamBadResponse

from .._api import JiraApi, segment
from .._pages import local_page
from .._scopes import READ_WORK, WRITE_WORK
from ..models import Attachment, AttachmentContent, AttachmentList
from ._common import IssueKey

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["MAX_ATTACHMENT_BYTES", "MAX_UPLOAD_BYTES", "AttachmentsTools"]

MAX_ATTACHMENT_BYTES = 1_000_000
"""The largest attachment whose content jira_get_attachment_content downloads."""
MAX_UPLOAD_BYTES = 1_000_000
"""The largest text jira_add_attachment uploads."""
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-yaml",
    "application/yaml",
    "application/x-sh",
    "application/javascript",
    "application/x-ndjson",
    "application/csv",
    "application/sql",
)
_TEXT_SUFFIXES = (
    ".txt",
    ".log",
    ".md",
    ".csv",
    ".json",
    ".xml",
    ".yaml",
    ".yml",
    ".ini",
    ".cfg",
    ".toml",
    ".diff",
    ".patch",
    ".py",
    ".js",
    ".ts",
    ".java",
    ".go",
    ".rs",
    ".sql",
    ".sh",
    ".html",
    ".css",
)
AttachmentId = Annotated[
    str, Field(pattern=r"^[1-9][0-9]{0,18}$", description="The attachment id (jira_list_attachments).")
]


def _is_text(attachment: Attachment) -> bool:
    kind = (attachment.mime_type or "").lower()
    return kind.startswith(_TEXT_TYPES) or attachment.filename.lower().endswith(_TEXT_SUFFIXES)


class AttachmentsTools:
    """The `attachments` group."""

    @tool(read_only=True, group="attachments", scopes=READ_WORK)
    async def list_attachments(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        limit: Annotated[int, Limit(maximum=100, what="Attachments")] = 50,
        cursor: Cursor = None,
    ) -> AttachmentList:
        """List an issue's attachments: id, file name, type, size, who attached it and when."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/issue/{segment(issue)}"), params={"fields": "attachment"})
        fields = response.json_object().get("fields") or {}
        raw = [a for a in fields.get("attachment") or [] if isinstance(a, dict)]
        window, next_cursor = local_page([Attachment.from_api(a) for a in raw], cursor, limit, {"issue": issue})
        return AttachmentList(key=issue, items=window, next_cursor=next_cursor)

    @tool(read_only=True, group="attachments", scopes=READ_WORK)
    async def get_attachment_content(
        self,
        ctx: ToolContext[JiraConfig],
        attachment_id: AttachmentId,
        max_chars: Annotated[int, Field(ge=100, le=50_000, description="Characters of text to return.")] = 20_000,
    ) -> AttachmentContent:
        """Read a small text attachment (logs, CSV, JSON, code; 1 MB at most); binary files are refused."""
        api = JiraApi(ctx)
        meta = await api.get(api.api(f"/attachment/{segment(attachment_id)}"))
        data = meta.json_object()
        attachment = Attachment.from_api(data)
        if not _is_text(attachment):
            raise InvalidArguments(
                f"attachment {attachment_id} ({attachment.filename}, {attachment.mime_type}) is not a text file; "
                "only text attachments can be read",
                [("attachment_id", "not a text attachment")],
            )
        if attachment.size is not None and attachment.size > MAX_ATTACHMENT_BYTES:
            raise InvalidArguments(
                f"attachment {attachment_id} ({attachment.filename}) is {attachment.size:,} bytes; only attachments "
                f"up to {MAX_ATTACHMENT_BYTES:,} bytes are read. Open it in Jira instead",
                [("attachment_id", "attachment too large")],
            )
        if api.cloud:
            # redirect=false: Jira serves the bytes itself instead of redirecting to its media host.
            content = await api.get(
                api.api(f"/attachment/content/{segment(attachment_id)}"), params={"redirect": "false"}
            )
        else:
            url = data.get("content")
            if not isinstance(url, str) or not api.http.sends_credentials_to(url):
                raise UpstreamBadResponse(
                    f"Jira gave no download address on its own host for attachment {attachment_id}; open it in Jira",
                    provider="jira",
                )
            content = await api.get(url)
        body = content.content[:MAX_ATTACHMENT_BYTES]
        text = body.decode("utf-8", errors="replace")
        shown, cut = clip(text, max_chars, "call again with a larger max_chars (up to 50,000) for more")
        return AttachmentContent(
            id=attachment.id,
            filename=attachment.filename,
            mime_type=attachment.mime_type,
            size=attachment.size if attachment.size is not None else len(body),
            text=shown,
            truncated=cut,
        )

    @tool(read_only=False, group="attachments", destructive=False, idempotent=False, scopes=WRITE_WORK)
    async def add_attachment(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        filename: Annotated[
            str, Field(pattern=r"^[^/\\\x00-\x1f\"]{1,200}$", description="The file name, e.g. notes.md.")
        ],
        content: Annotated[str, Field(max_length=MAX_UPLOAD_BYTES, description="The file's text (UTF-8).")],
        mime_type: Annotated[
            str, Field(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$", description="Its media type.")
        ] = "text/plain",
    ) -> AttachmentList:
        """Attach a text file (notes, a log excerpt, a CSV) to an issue."""
        api = JiraApi(ctx)
        data = content.encode("utf-8")
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidArguments(
                f"the content is {len(data):,} bytes in UTF-8; at most {MAX_UPLOAD_BYTES:,} can be attached",
                [("content", "too large")],
            )
        boundary = "sagemcp-" + secrets.token_hex(12)
        # httpx writes the multipart body; the boundary is ours so the Content-Type header can name it.
        request = httpx.Request(
            "POST",
            "https://multipart.invalid/",
            files={"file": (filename, data, mime_type)},
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        body = request.read()
        headers = {
            "Content-Type": request.headers["Content-Type"],
            # Jira refuses uploads without this header (its protection against cross-site requests).
            "X-Atlassian-Token": "no-check",
        }
        response = await api.post(api.api(f"/issue/{segment(issue)}/attachments"), content=body, headers=headers)
        return AttachmentList(key=issue, items=[Attachment.from_api(a) for a in response.json_list(of=dict)])
