"""`gmail_send` tools: sending mail, replies and drafts. Off by default: a sent message cannot be taken back.

Nothing here is retried: a send that timed out may have gone out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from sagemcp import ToolContext, tool

from .._mime import build_message, reply_recipients
from .._scopes import GMAIL_COMPOSE, GMAIL_READ, GMAIL_SEND
from ..models import ActionResult
from ._common import url
from .gmail import Addresses, Body, Copies, DraftId, MarkdownFlag, MessageId, Subject, fetch_message, user_path

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["GmailSendTools"]


def _sent(data: dict[str, object], what: str) -> ActionResult:
    return ActionResult(done=f"{what} (thread `{data.get('threadId')}`).", id=str(data.get("id") or ""))


class GmailSendTools:
    """The `gmail_send` group."""

    @tool(read_only=False, group="gmail_send", destructive=False, idempotent=False, scopes=GMAIL_SEND)
    async def send_message(
        self,
        ctx: ToolContext[GoogleConfig],
        to: Addresses,
        subject: Subject,
        body: Body,
        cc: Copies = None,
        bcc: Copies = None,
        markdown: MarkdownFlag = False,
    ) -> ActionResult:
        """Send an email now from the connected Gmail account (plain text, or Markdown as HTML).

        To let the user review it first: google_create_draft.
        """
        raw = build_message(to=to, cc=cc or [], bcc=bcc or [], subject=subject, body=body, markdown=markdown)
        response = await ctx.http.post(url(ctx, "gmail", user_path("messages/send")), json={"raw": raw})
        return _sent(response.json_object(), "Sent")

    @tool(read_only=False, group="gmail_send", destructive=False, idempotent=False, scopes=(*GMAIL_SEND, *GMAIL_READ))
    async def reply_to_message(
        self,
        ctx: ToolContext[GoogleConfig],
        message_id: MessageId,
        body: Body,
        reply_all: Annotated[bool, Field(description="Also to everyone else on the message.")] = False,
        markdown: MarkdownFlag = False,
    ) -> ActionResult:
        """Reply in a message's conversation, to its sender or (reply_all) everyone on it."""
        original = await fetch_message(ctx, message_id, "metadata")
        headers = {
            str(h.get("name")).lower(): str(h.get("value") or "")
            for h in (original.get("payload") or {}).get("headers") or ()
            if isinstance(h, dict)
        }
        profile = await ctx.http.get(url(ctx, "gmail", user_path("profile")))
        me = profile.json_object().get("emailAddress")
        to, cc = reply_recipients(headers, me if isinstance(me, str) else None, reply_all)
        subject = headers.get("subject", "")
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}".strip()
        raw = build_message(
            to=to,
            cc=cc,
            subject=subject,
            body=body,
            markdown=markdown,
            in_reply_to=headers.get("message-id"),
            references=headers.get("references"),
        )
        payload = {"raw": raw, "threadId": original.get("threadId")}
        response = await ctx.http.post(url(ctx, "gmail", user_path("messages/send")), json=payload)
        return _sent(response.json_object(), f"Replied to {', '.join(to + cc)}")

    @tool(read_only=False, group="gmail_send", destructive=False, idempotent=False, scopes=GMAIL_COMPOSE)
    async def send_draft(self, ctx: ToolContext[GoogleConfig], draft_id: DraftId) -> ActionResult:
        """Send an existing draft as it is."""
        response = await ctx.http.post(url(ctx, "gmail", user_path("drafts/send")), json={"id": draft_id})
        return _sent(response.json_object(), "Sent the draft")
