"""`gmail` tools: search and read mail as text, labels, drafts and attachments. Sending is `gmail_send`'s.

Searches take Gmail's own query syntax (`from:ana is:unread newer_than:7d`), passed as Gmail's `q`:
it is the language the caller means to write, not a value spliced into one. A search lists ids, so
the headers of each message on the page are fetched alongside (at most `_PARALLEL` at a time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, clip, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments

from .._extract import ExtractionError, pdf_text
from .._mime import b64url_decode, build_message, parse_payload
from .._scopes import GMAIL_COMPOSE, GMAIL_MODIFY, GMAIL_READ
from .._services import segment
from ..models import (
    ActionResult,
    AttachmentContent,
    AttachmentInfo,
    Draft,
    DraftList,
    Label,
    LabelList,
    Message,
    MessageList,
    MessageSummary,
    Thread,
    ThreadList,
    ThreadSummary,
    obj,
)
from ._common import next_page, page_token, url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["Addresses", "GmailTools", "MessageId", "fetch_message", "label_ids", "read_message"]

T = TypeVar("T")
_PARALLEL = 10
_SUMMARY_HEADERS = ["From", "To", "Subject", "Date"]
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_THREAD_MESSAGES = 25
"""A thread shows at most its newest 25 messages; earlier ones are read with google_get_message."""

MessageId = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9]+$", description="A Gmail message id.")
]
ThreadId = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9]+$", description="A Gmail thread id.")
]
DraftId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="A draft id.")]
Query = Annotated[
    str,
    Field(
        max_length=2000,
        description="Gmail search syntax: `from:ana@example.com is:unread newer_than:7d`, `label:work after:2026/1/1`.",
    ),
]
Address = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^\r\n]+@[^\r\n]+$")]
Addresses = Annotated[list[Address], Field(min_length=1, max_length=100, description="Recipients' email addresses.")]
Copies = Annotated[list[Address] | None, Field(max_length=100, description="More recipients' email addresses.")]
LabelNames = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=225)]],
    Field(max_length=50, description="Label names (`Work/Clients`) or ids (`UNREAD`, `Label_12`)."),
]
Body = Annotated[str, Field(max_length=200_000, description="The message text.")]
Subject = Annotated[str, Field(max_length=998, pattern=r"^[^\r\n]*$", description="The subject line.")]
MarkdownFlag = Annotated[bool, Field(description="The body is Markdown: also send it as HTML.")]


async def gather(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the calls at most `_PARALLEL` at a time; the results in the calls' order."""
    results: list[Any] = [None] * len(calls)
    limiter = anyio.CapacityLimiter(_PARALLEL)

    async def one(position: int) -> None:
        async with limiter:
            results[position] = await calls[position]()

    async with anyio.create_task_group() as group:
        for position in range(len(calls)):
            group.start_soon(one, position)
    return results


def user_path(path: str) -> str:
    return f"users/me/{path}"


async def fetch_message(ctx: ToolContext[GoogleConfig], message_id: str, fmt: str = "full") -> dict[str, Any]:
    params: dict[str, Any] = {"format": fmt}
    if fmt == "metadata":
        params["metadataHeaders"] = _SUMMARY_HEADERS
    response = await ctx.http.get(url(ctx, "gmail", user_path(f"messages/{segment(message_id)}")), params=params)
    return response.json_object()


def read_message(data: dict[str, Any], max_chars: int, include_quoted: bool, hint: str) -> Message:
    payload = obj(data.get("payload"))
    parsed = parse_payload(payload, include_quoted=include_quoted)
    body, cut = clip(parsed.text, max_chars, hint)
    headers = parsed.headers
    return Message(
        id=str(data.get("id") or ""),
        thread_id=str(data.get("threadId") or ""),
        date=headers.get("date"),
        sender=headers.get("from"),
        to=headers.get("to"),
        cc=headers.get("cc"),
        subject=headers.get("subject", ""),
        message_id_header=headers.get("message-id"),
        labels=[label for label in data.get("labelIds") or () if isinstance(label, str)],
        body=body,
        body_source=parsed.source,
        truncated=cut,
        folded_lines=parsed.folded_lines,
        attachments=[
            AttachmentInfo(filename=a.filename, mime_type=a.mime_type, size=a.size, attachment_id=a.attachment_id)
            for a in parsed.attachments
        ],
    )


async def label_ids(ctx: ToolContext[GoogleConfig], names: list[str]) -> list[str]:
    """Label ids for names or ids (system labels like UNREAD are their own ids); unknown names are refused."""
    if not names:
        return []
    response = await ctx.http.get(url(ctx, "gmail", user_path("labels")))
    labels = [Label.from_api(label) for label in response.json_list("labels", of=dict)]
    by_name = {label.name.casefold(): label.id for label in labels}
    ids = {label.id for label in labels}
    found = []
    for name in names:
        if name in ids:
            found.append(name)
        elif name.casefold() in by_name:
            found.append(by_name[name.casefold()])
        else:
            raise InvalidArguments(
                f"Gmail has no label {name!r}: google_list_labels lists them", [("labels", f"unknown label {name!r}")]
            )
    return found


def draft_body(
    to: list[str], cc: list[str], bcc: list[str], subject: str, body: str, markdown: bool, thread_id: str | None
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "raw": build_message(to=to, cc=cc, bcc=bcc, subject=subject, body=body, markdown=markdown)
    }
    if thread_id:
        message["threadId"] = thread_id
    return {"message": message}


class GmailTools:
    """The `gmail` group."""

    @tool(read_only=True, group="gmail", scopes=GMAIL_READ)
    async def search_messages(
        self,
        ctx: ToolContext[GoogleConfig],
        query: Query = "",
        labels: Annotated[
            list[str] | None, Field(max_length=10, description="Only messages with all these label ids.")
        ] = None,
        include_spam_trash: Annotated[bool, Field(description="Also search Spam and Trash.")] = False,
        limit: Annotated[int, Limit(maximum=200, what="Messages")] = 20,
        cursor: Cursor = None,
    ) -> MessageList:
        """Search emails with Gmail's query syntax, newest first: id, date, sender, subject, snippet, unread.

        Read one with google_get_message, its conversation with google_get_thread.
        """
        bind = {"q": query, "labels": labels, "spam": include_spam_trash}
        params: dict[str, Any] = {
            "q": query or None,
            "labelIds": labels or None,
            "maxResults": limit,
            "includeSpamTrash": "true" if include_spam_trash else None,
            "pageToken": page_token(cursor, bind),
        }
        response = await ctx.http.get(url(ctx, "gmail", user_path("messages")), params=params)
        data = response.json_object()
        ids = [str(m.get("id")) for m in data.get("messages") or () if isinstance(m, dict) and m.get("id")]
        found = await gather([partial(fetch_message, ctx, mid, "metadata") for mid in ids])
        return MessageList(
            items=[MessageSummary.from_api(m) for m in found],
            next_cursor=next_page(data, bind),
            query=query or None,
            estimated_total=data.get("resultSizeEstimate") if isinstance(data.get("resultSizeEstimate"), int) else None,
        )

    @tool(read_only=True, group="gmail", scopes=GMAIL_READ)
    async def search_threads(
        self,
        ctx: ToolContext[GoogleConfig],
        query: Query = "",
        limit: Annotated[int, Limit(maximum=100, what="Threads")] = 20,
        cursor: Cursor = None,
    ) -> ThreadList:
        """Search conversations with Gmail's query syntax: id, subject, participants, message count, last date."""
        bind = {"q": query}
        params = {"q": query or None, "maxResults": limit, "pageToken": page_token(cursor, bind)}
        response = await ctx.http.get(url(ctx, "gmail", user_path("threads")), params=params)
        data = response.json_object()
        ids = [str(t.get("id")) for t in data.get("threads") or () if isinstance(t, dict) and t.get("id")]

        async def summary(thread_id: str) -> ThreadSummary:
            answer = await ctx.http.get(
                url(ctx, "gmail", user_path(f"threads/{segment(thread_id)}")),
                params={"format": "metadata", "metadataHeaders": _SUMMARY_HEADERS},
            )
            messages = [MessageSummary.from_api(m) for m in answer.json_list("messages", of=dict)]
            people = list(dict.fromkeys((m.sender or "").split("<")[0].strip().strip('"') for m in messages))
            return ThreadSummary(
                id=thread_id,
                subject=messages[0].subject if messages else "",
                participants=", ".join(p for p in people if p)[:200],
                messages=len(messages),
                last_date=messages[-1].date if messages else None,
                snippet=messages[-1].snippet if messages else "",
                unread=any(m.unread for m in messages),
            )

        threads = await gather([partial(summary, tid) for tid in ids])
        return ThreadList(items=threads, next_cursor=next_page(data, bind), query=query or None)

    @tool(read_only=True, group="gmail", scopes=GMAIL_READ)
    async def get_message(
        self,
        ctx: ToolContext[GoogleConfig],
        message_id: MessageId,
        include_quoted: Annotated[bool, Field(description="Keep the quoted history of earlier messages.")] = False,
        max_chars: Annotated[
            int, Field(ge=500, le=100_000, description="At most this many characters of body.")
        ] = 20_000,
    ) -> Message:
        """Read one message as text: headers, body (HTML as Markdown), attachment ids for google_get_attachment."""
        data = await fetch_message(ctx, message_id)
        hint = "call google_get_message with a larger max_chars, or read the message in Gmail"
        return read_message(data, max_chars, include_quoted, hint)

    @tool(read_only=True, group="gmail", scopes=GMAIL_READ)
    async def get_thread(
        self,
        ctx: ToolContext[GoogleConfig],
        thread_id: ThreadId,
        max_chars: Annotated[
            int, Field(ge=1000, le=100_000, description="Characters for all bodies together.")
        ] = 40_000,
    ) -> Thread:
        """Read a whole email conversation as text, oldest first, quoted history folded.

        Past max_chars the earliest messages are left out.
        """
        response = await ctx.http.get(
            url(ctx, "gmail", user_path(f"threads/{segment(thread_id)}")), params={"format": "full"}
        )
        raw = response.json_list("messages", of=dict)
        per = max(500, max_chars // max(1, min(len(raw), 10)))
        messages = [read_message(m, per, False, "read it alone with google_get_message") for m in raw]
        kept: list[Message] = []
        used = 0
        for message in reversed(messages):
            if kept and (used + len(message.body) > max_chars or len(kept) >= MAX_THREAD_MESSAGES):
                break
            kept.insert(0, message)
            used += len(message.body)
        return Thread(
            id=thread_id,
            subject=messages[0].subject if messages else "",
            messages=kept,
            truncated=len(kept) < len(messages) or any(m.truncated for m in kept),
            omitted=len(messages) - len(kept),
        )

    @tool(read_only=True, group="gmail", scopes=GMAIL_READ)
    async def list_labels(
        self,
        ctx: ToolContext[GoogleConfig],
        limit: Annotated[int, Limit(maximum=500, what="Labels")] = 200,
        cursor: Cursor = None,
    ) -> LabelList:
        """List the mailbox's labels (system and user): id, name and type."""
        skip = int(decode_cursor(cursor).get("skip", 0)) if cursor else 0
        response = await ctx.http.get(url(ctx, "gmail", user_path("labels")))
        labels = [Label.from_api(label) for label in response.json_list("labels", of=dict)]
        more = skip + limit < len(labels)
        return LabelList(
            items=labels[skip : skip + limit], next_cursor=encode_cursor({"skip": skip + limit}) if more else None
        )

    @tool(read_only=False, group="gmail", destructive=False, idempotent=True, scopes=GMAIL_MODIFY)
    async def modify_message_labels(
        self,
        ctx: ToolContext[GoogleConfig],
        message_id: MessageId,
        add: LabelNames | None = None,
        remove: LabelNames | None = None,
    ) -> MessageSummary:
        """Add or remove a message's labels: archive (remove INBOX), mark read (remove UNREAD), star, file."""
        if not add and not remove:
            raise InvalidArguments("give labels to add or to remove", [("add", "nothing to change")])
        body = {"addLabelIds": await label_ids(ctx, add or []), "removeLabelIds": await label_ids(ctx, remove or [])}
        response = await ctx.http.post(
            url(ctx, "gmail", user_path(f"messages/{segment(message_id)}/modify")), json=body, idempotent=True
        )
        return MessageSummary.from_api(response.json_object())

    @tool(read_only=False, group="gmail", destructive=False, idempotent=True, scopes=GMAIL_MODIFY)
    async def modify_thread_labels(
        self,
        ctx: ToolContext[GoogleConfig],
        thread_id: ThreadId,
        add: LabelNames | None = None,
        remove: LabelNames | None = None,
    ) -> ActionResult:
        """Add or remove labels on every message of a conversation (archive, mark read, label by name)."""
        if not add and not remove:
            raise InvalidArguments("give labels to add or to remove", [("add", "nothing to change")])
        body = {"addLabelIds": await label_ids(ctx, add or []), "removeLabelIds": await label_ids(ctx, remove or [])}
        await ctx.http.post(
            url(ctx, "gmail", user_path(f"threads/{segment(thread_id)}/modify")), json=body, idempotent=True
        )
        return ActionResult(done="Updated the thread's labels.", id=thread_id)

    @tool(read_only=True, group="gmail", scopes=GMAIL_READ)
    async def get_attachment(
        self,
        ctx: ToolContext[GoogleConfig],
        message_id: MessageId,
        attachment_id: Annotated[
            str,
            Field(min_length=1, max_length=2000, pattern=r"^[A-Za-z0-9_-]+$", description="From google_get_message."),
        ],
        max_chars: Annotated[int, Field(ge=500, le=100_000, description="At most this many characters.")] = 20_000,
    ) -> AttachmentContent:
        """Get an attachment's name, type, size, and its text for text files and PDFs (up to 5 MB)."""
        message = await fetch_message(ctx, message_id)
        parsed = parse_payload(obj(message.get("payload")), include_quoted=True)
        info = next((a for a in parsed.attachments if a.attachment_id == attachment_id), None)
        mime = info.mime_type if info else None
        if info is not None and info.size > MAX_ATTACHMENT_BYTES:
            return AttachmentContent(
                message_id=message_id,
                attachment_id=attachment_id,
                filename=info.filename,
                mime_type=mime,
                size=info.size,
                note=f"Larger than {MAX_ATTACHMENT_BYTES:,} bytes: not downloaded.",
            )
        response = await ctx.http.get(
            url(ctx, "gmail", user_path(f"messages/{segment(message_id)}/attachments/{segment(attachment_id)}"))
        )
        data = b64url_decode(str(response.json_object().get("data") or ""))
        content: str | None = None
        note: str | None = None
        try:
            if mime == "application/pdf":
                content = pdf_text(data)
            elif mime and (mime.startswith("text/") or mime in ("application/json", "application/xml")):
                content = data.decode("utf-8", errors="replace")
            else:
                note = "A binary attachment: its content is not shown."
        except ExtractionError as exc:
            note = f"Could not read it: {exc}"
        cut = False
        if content is not None:
            content, cut = clip(content, max_chars, "call google_get_attachment with a larger max_chars")
        return AttachmentContent(
            message_id=message_id,
            attachment_id=attachment_id,
            filename=info.filename if info else None,
            mime_type=mime,
            size=len(data),
            content=content,
            truncated=cut,
            note=note,
        )

    @tool(read_only=True, group="gmail", scopes=GMAIL_READ)
    async def list_drafts(
        self,
        ctx: ToolContext[GoogleConfig],
        query: Query = "",
        limit: Annotated[int, Limit(maximum=100, what="Drafts")] = 20,
        cursor: Cursor = None,
    ) -> DraftList:
        """List drafts (id, subject, recipients); open one with google_get_message on its message id."""
        bind = {"q": query}
        params = {"q": query or None, "maxResults": limit, "pageToken": page_token(cursor, bind)}
        response = await ctx.http.get(url(ctx, "gmail", user_path("drafts")), params=params)
        data = response.json_object()
        ids = [str(d.get("id")) for d in data.get("drafts") or () if isinstance(d, dict) and d.get("id")]

        async def one(draft_id: str) -> Draft:
            answer = await ctx.http.get(
                url(ctx, "gmail", user_path(f"drafts/{segment(draft_id)}")), params={"format": "metadata"}
            )
            return Draft.from_api(answer.json_object())

        drafts = await gather([partial(one, did) for did in ids])
        return DraftList(items=drafts, next_cursor=next_page(data, bind))

    @tool(read_only=False, group="gmail", destructive=False, idempotent=False, scopes=GMAIL_COMPOSE)
    async def create_draft(
        self,
        ctx: ToolContext[GoogleConfig],
        to: Addresses,
        subject: Subject,
        body: Body,
        cc: Copies = None,
        bcc: Copies = None,
        markdown: MarkdownFlag = False,
        thread_id: Annotated[ThreadId | None, Field(description="Put the draft in this conversation.")] = None,
    ) -> Draft:
        """Save a draft email (nothing is sent); google_send_draft sends it when the send group is enabled."""
        payload = draft_body(to, cc or [], bcc or [], subject, body, markdown, thread_id)
        response = await ctx.http.post(url(ctx, "gmail", user_path("drafts")), json=payload)
        return Draft.from_api(response.json_object()).model_copy(update={"subject": subject, "to": ", ".join(to)})

    @tool(read_only=False, group="gmail", destructive=True, idempotent=True, scopes=GMAIL_COMPOSE)
    async def update_draft(
        self,
        ctx: ToolContext[GoogleConfig],
        draft_id: DraftId,
        to: Addresses,
        subject: Subject,
        body: Body,
        cc: Copies = None,
        bcc: Copies = None,
        markdown: MarkdownFlag = False,
    ) -> Draft:
        """Replace a draft's recipients, subject and body (the whole draft is rewritten)."""
        payload = {"id": draft_id, **draft_body(to, cc or [], bcc or [], subject, body, markdown, None)}
        response = await ctx.http.put(url(ctx, "gmail", user_path(f"drafts/{segment(draft_id)}")), json=payload)
        return Draft.from_api(response.json_object()).model_copy(update={"subject": subject, "to": ", ".join(to)})
