"""Gmail messages: MIME trees read as text, and new messages built with the standard library's `email` package.

Reading: Gmail's `format=full` payload is a MIME tree whose bodies are base64url. The text is the
`text/plain` part, else the `text/html` part converted to Markdown (markdownify), with quoted
history (`> ...` lines, "On ... wrote:" blocks, Gmail's and Outlook's quote containers) folded
away so a thread reads once. Attachments are listed, never inlined.

Writing: `build_message` makes an RFC 5322 message with `email.message.EmailMessage` (headers
encoded by the library, never pasted), plain text plus an HTML alternative when the body is
Markdown, returned as the base64url `raw` that Gmail's send and draft methods take.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdownify import markdownify

__all__ = [
    "Attachment",
    "ParsedMessage",
    "b64url_decode",
    "build_message",
    "fold_quotes",
    "html_markdown",
    "parse_payload",
    "reply_recipients",
]

_ATTRIBUTION_RE = re.compile(
    r"^(On .{5,200}(wrote|écrit|schrieb|escribió|scritto):\s*$|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$|"
    r"From: .+\n(Sent|Date): )",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTE_CONTAINERS = (
    "div.gmail_quote",
    "blockquote.gmail_quote",
    "div#appendonsend",
    "div.moz-cite-prefix",
    "blockquote[type=cite]",
    "div#divRplyFwdMsg",
)
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def b64url_decode(data: str) -> bytes:
    """Gmail's base64url (padding optional)."""
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return b""


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str
    size: int
    attachment_id: str | None
    part_id: str | None


@dataclass
class ParsedMessage:
    headers: dict[str, str]
    text: str
    source: str
    """plain or html: which part the text came from."""
    attachments: list[Attachment] = field(default_factory=list)
    folded_lines: int = 0


def _headers(part: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in part.get("headers") or ():
        if isinstance(header, dict) and isinstance(header.get("name"), str):
            found.setdefault(header["name"].lower(), str(header.get("value") or ""))
    return found


def _charset(part: dict[str, Any]) -> str:
    match = re.search(r'charset="?([\w.:-]+)', _headers(part).get("content-type", ""), re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def _walk(part: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield part
    for child in part.get("parts") or ():
        if isinstance(child, dict):
            yield from _walk(child)


def _decode(part: dict[str, Any]) -> str:
    data = (part.get("body") or {}).get("data")
    if not isinstance(data, str):
        return ""
    raw = b64url_decode(data)
    try:
        return raw.decode(_charset(part), errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def html_markdown(html: str, *, drop_quotes: bool = True) -> tuple[str, int]:
    """HTML mail as Markdown, and how many quoted lines were dropped with Gmail's and Outlook's quote containers."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta"]):
        tag.decompose()
    dropped = 0
    if drop_quotes:
        for selector in _QUOTE_CONTAINERS:
            for node in soup.select(selector):
                dropped += max(1, len(node.get_text("\n").strip().splitlines()))
                node.decompose()
    text = markdownify(str(soup), heading_style="ATX", bullets="-", strip=["img"])
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, dropped


def fold_quotes(text: str) -> tuple[str, int]:
    """`text` without its quoted history (from the first attribution line, or a final block of `>` lines)."""
    lines = text.replace("\r\n", "\n").split("\n")
    match = _ATTRIBUTION_RE.search("\n".join(lines))
    cut = len(lines)
    if match is not None:
        cut = "\n".join(lines)[: match.start()].count("\n")
    else:
        end = len(lines)
        while end > 0 and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
            end -= 1
        if any(line.startswith(">") for line in lines[end:]):
            cut = end
    kept = "\n".join(lines[:cut]).rstrip()
    folded = len([line for line in lines[cut:] if line.strip()])
    return kept, folded


def parse_payload(payload: dict[str, Any], *, include_quoted: bool = False) -> ParsedMessage:
    """The headers, body text and attachments of a `format=full` message payload."""
    plain = html = None
    attachments: list[Attachment] = []
    for part in _walk(payload):
        mime = str(part.get("mimeType") or "").lower()
        body = part.get("body") or {}
        filename = str(part.get("filename") or "")
        disposition = _headers(part).get("content-disposition", "").lower()
        if filename or disposition.startswith("attachment"):
            attachments.append(
                Attachment(
                    filename=filename or "(unnamed)",
                    mime_type=mime,
                    size=int(body.get("size") or 0),
                    attachment_id=body.get("attachmentId") if isinstance(body.get("attachmentId"), str) else None,
                    part_id=part.get("partId") if isinstance(part.get("partId"), str) else None,
                )
            )
            continue
        if mime == "text/plain" and plain is None:
            plain = _decode(part)
        elif mime == "text/html" and html is None:
            html = _decode(part)
    folded = 0
    if plain is not None and plain.strip():
        text, source = plain, "plain"
    elif html is not None:
        text, folded = html_markdown(html, drop_quotes=not include_quoted)
        source = "html"
    else:
        text, source = "", "plain"
    if not include_quoted:
        text, more = fold_quotes(text)
        folded += more
    return ParsedMessage(
        headers=_headers(payload), text=text.strip(), source=source, attachments=attachments, folded_lines=folded
    )


def _addresses(values: Sequence[str]) -> str:
    return ", ".join(values)


def build_message(
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    markdown: bool = False,
    in_reply_to: str | None = None,
    references: str | None = None,
    sender: str | None = None,
) -> str:
    """A new RFC 5322 message as Gmail's base64url `raw`.

    With `markdown`, the body is sent as text plus an HTML rendering of it. `in_reply_to` and
    `references` thread a reply (RFC 5322 section 3.6.4).
    """
    message = EmailMessage(policy=SMTP)
    if sender:
        message["From"] = sender
    if to:
        message["To"] = _addresses(to)
    if cc:
        message["Cc"] = _addresses(cc)
    if bcc:
        message["Bcc"] = _addresses(bcc)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="sagemcp.invalid")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = f"{references} {in_reply_to}".strip() if references else in_reply_to
    message.set_content(body)
    if markdown:
        message.add_alternative(_MARKDOWN.render(body), subtype="html")
    return base64.urlsafe_b64encode(message.as_bytes()).decode("ascii").rstrip("=")


def reply_recipients(headers: dict[str, str], me: str | None, reply_all: bool) -> tuple[list[str], list[str]]:
    """To and Cc of a reply: the sender (or Reply-To), plus everyone else on a reply-all, without the user."""
    primary = headers.get("reply-to") or headers.get("from") or ""
    to = [addr for _, addr in getaddresses([primary]) if addr]
    cc: list[str] = []
    if reply_all:
        others = getaddresses([headers.get("to", ""), headers.get("cc", "")])
        seen = {a.lower() for a in to} | ({me.lower()} if me else set())
        for _, addr in others:
            if addr and addr.lower() not in seen:
                cc.append(addr)
                seen.add(addr.lower())
    if me:
        to = [a for a in to if a.lower() != me.lower()] or to
    return to, cc
