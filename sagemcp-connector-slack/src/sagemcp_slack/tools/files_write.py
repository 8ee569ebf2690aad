"""Group `files_write`: uploading a file with Slack's two-step external upload.

Off unless a tenant enables the group: a file, once shared, is seen by everyone in the
channel, and its bytes come from the model. A shared upload checks the connector's
`allowed_channels` first.

`files.upload` was retired by Slack (new apps lost it in 2024, every app on 2025-11-12).
The current flow, modelled from Slack's documentation:

1. `files.getUploadURLExternal` (form fields `filename`, `length`) returns `upload_url`
   and `file_id`;
2. the bytes are POSTed to `upload_url` (on files.slack.com, a credential origin the
   connector declares, so core adds the token as for the API; see `_files`);
3. `files.completeUploadExternal` (form fields; `files` is a JSON-encoded array of
   `{"id", "title"}`) finishes the upload and, with `channel_id`, shares the file.

Both API steps are sent as form bodies: that is the encoding Slack documents for them
and the one Slack's own SDKs use (`files` as a JSON string inside the form).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from pydantic import Field

from sagemcp import ToolContext, tool
from sagemcp.errors import InvalidArguments, UpstreamBadResponse

from .. import _api
from .._config import SlackConfig
from .._files import check_file_url
from .._guard import writable_channel
from .._mrkdwn import to_mrkdwn
from .._params import ChannelArg, TsArg
from .._scopes import CONVERSATION_READ
from ..models import UploadedFile

__all__ = ["FileWriteTools"]

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest file accepted through a tool argument (the MCP message carries it whole)."""


class FileWriteTools:
    """Uploading files."""

    @tool(read_only=False, group="files_write", scopes=("files:write", *CONVERSATION_READ))
    async def upload_file(
        self,
        ctx: ToolContext[SlackConfig],
        filename: Annotated[
            str,
            Field(
                min_length=1,
                max_length=255,
                pattern=r"^[^/\\\x00-\x1f]+$",
                description="File name with extension, e.g. report.csv.",
            ),
        ],
        content: Annotated[
            str | None, Field(description="The file's text (UTF-8). Give this or content_base64.")
        ] = None,
        content_base64: Annotated[
            str | None, Field(description="The file's bytes, base64-encoded, for binary files.")
        ] = None,
        title: Annotated[str | None, Field(max_length=255, description="Title shown in Slack.")] = None,
        channel: Annotated[
            ChannelArg | None, Field(description="Share the file in this channel; leave out to keep it private.")
        ] = None,
        thread_ts: Annotated[TsArg | None, Field(description="Share it as a reply in this thread.")] = None,
        initial_comment: Annotated[
            str | None, Field(max_length=4000, description="Message posted with the file (Markdown).")
        ] = None,
    ) -> UploadedFile:
        """Upload a file (text or base64, up to 5 MB), optionally sharing it in a channel or thread.

        Returns the file id and permalink.
        """
        if (content is None) == (content_base64 is None):
            raise InvalidArguments(
                "give exactly one of content (text) and content_base64 (bytes)",
                errors=[("content", "give content or content_base64")],
            )
        if thread_ts and not channel:
            raise InvalidArguments("thread_ts needs channel", errors=[("thread_ts", "needs channel")])
        if content is not None:
            data = content.encode("utf-8")
        else:
            try:
                data = base64.b64decode(content_base64 or "", validate=True)
            except (binascii.Error, ValueError):
                raise InvalidArguments(
                    "content_base64 is not valid base64", errors=[("content_base64", "not base64")]
                ) from None
        if not data:
            raise InvalidArguments("the file is empty", errors=[("content", "empty")])
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidArguments(
                f"the file is {len(data):,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit of this tool",
                errors=[("content", "too large")],
            )
        channel_id: str | None = None
        if channel:
            _, channel_id = await writable_channel(ctx, channel)

        ticket = await _api.write_form(ctx, "files.getUploadURLExternal", {"filename": filename, "length": len(data)})
        upload_url, file_id = ticket.get("upload_url"), ticket.get("file_id")
        if not isinstance(upload_url, str) or not isinstance(file_id, str):
            raise UpstreamBadResponse(
                "Slack's files.getUploadURLExternal answer has no upload_url or file_id; try again later.",
                provider="slack",
            )
        await ctx.http.post(
            check_file_url(ctx, upload_url), content=data, headers={"Content-Type": "application/octet-stream"}
        )

        done = await _api.write_form(
            ctx,
            "files.completeUploadExternal",
            {
                "files": json.dumps([{"id": file_id, "title": title or filename}], separators=(",", ":")),
                "channel_id": channel_id,
                "thread_ts": thread_ts,
                "initial_comment": to_mrkdwn(initial_comment) if initial_comment else None,
            },
        )
        return UploadedFile.from_api(
            done, file_id=file_id, filename=filename, title=title, size=len(data), channel=channel_id
        )
