"""Slack mrkdwn to Markdown (for what the tools return) and Markdown to mrkdwn (for what they post).

Slack's message format looks like Markdown but differs: `*bold*`, `_italic_`, `~strike~`,
`<https://url|label>` links, `<@U123>` user mentions, `<#C123|name>` channel links,
`<!here>` broadcasts, `<!subteam^S123|@team>` group mentions, `<!date^...|fallback>`
dates, and `&`, `<`, `>` escaped as HTML entities. Code spans and blocks are left
alone (apart from the entities), and Slack tokens are swapped out for placeholders
while the emphasis is rewritten, so a `_` or `*` inside a URL is never mistaken for
formatting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

__all__ = ["mentioned_ids", "to_markdown", "to_mrkdwn"]

_CODE_RE = re.compile(r"```[\s\S]*?```|`[^`\n]+`")
_SLACK_TOKEN_RE = re.compile(r"<([^<>\s][^<>]*)>")
_USER_ID_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_CHANNEL_ID_RE = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^<>]*))?>")

_BOLD_RE = re.compile(r"(?<![\\\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_STRIKE_RE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_BULLET_RE = re.compile(r"^(\s*)[•◦▪]\s+", re.MULTILINE)

# Markdown -> mrkdwn
_NATIVE_TOKEN_RE = re.compile(r"<(?:[@#!][^<>\s|]+|(?:https?|mailto):[^<>\s|]+)(?:\|[^<>\n]*)?>")
_MD_LINK_RE = re.compile(r"!?\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_MD_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MD_BULLET_RE = re.compile(r"^(\s*)[-*+]\s+(?=\S)", re.MULTILINE)
_MD_BOLD_RE = re.compile(r"\*\*(?!\s)(.+?)(?<!\s)\*\*|__(?!\s)(.+?)(?<!\s)__")
_MD_ITALIC_RE = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_MD_STRIKE_RE = re.compile(r"~~(?!\s)(.+?)(?<!\s)~~")
_QUOTE_PREFIX_RE = re.compile(r"^\s{0,3}>\s?")
_FENCE_LANG_RE = re.compile(r"^```[\w+#.-]*[ \t]*\n")

_BOLD_MARK = "\x01"
_PLACEHOLDER = "\x00{}\x00"
_PLACEHOLDER_RE = re.compile(r"\x00(\d+)\x00")


def unescape(text: str) -> str:
    """Slack's three entities back to characters (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """The three characters Slack wants escaped in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mentioned_ids(text: str | None) -> tuple[set[str], set[str]]:
    """User ids and (unlabelled) channel ids mentioned in mrkdwn text, to resolve before rendering."""
    if not text:
        return set(), set()
    users = set(_USER_ID_RE.findall(text))
    channels = {cid for cid, label in _CHANNEL_ID_RE.findall(text) if not label}
    return users, channels


def _split_code(text: str, plain: Callable[[str], str], code: Callable[[str], str]) -> str:
    out: list[str] = []
    pos = 0
    for match in _CODE_RE.finditer(text):
        out.append(plain(text[pos : match.start()]))
        out.append(code(match.group(0)))
        pos = match.end()
    out.append(plain(text[pos:]))
    return "".join(out)


def to_markdown(
    text: str | None,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """Render Slack mrkdwn as Markdown; `users`/`channels` map ids to names (without `@`/`#`)."""
    if not text:
        return ""
    text = text.replace("\x00", "")
    users = users or {}
    channels = channels or {}

    def plain(segment: str) -> str:
        saved: list[str] = []

        def keep(match: re.Match[str]) -> str:
            saved.append(_render_token(match.group(1), users, channels))
            return _PLACEHOLDER.format(len(saved) - 1)

        segment = _SLACK_TOKEN_RE.sub(keep, segment)
        segment = _BOLD_RE.sub(r"**\1**", segment)
        segment = _STRIKE_RE.sub(r"~~\1~~", segment)
        segment = _BULLET_RE.sub(r"\1- ", segment)
        segment = _PLACEHOLDER_RE.sub(lambda m: saved[int(m.group(1))], segment)
        return unescape(segment)

    return _split_code(text, plain, unescape)


def _render_token(body: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        name = users.get(user_id) or label or user_id
        return "@" + name.lstrip("@")
    if target.startswith("#"):
        channel_id = target[1:]
        name = label or channels.get(channel_id) or channel_id
        return "#" + name.lstrip("#")
    if target.startswith("!"):
        command = target[1:]
        if command in ("here", "channel", "everyone"):
            return "@" + command
        if command.startswith("subteam^"):
            return unescape(label) if label else "@" + command.split("^", 1)[1]
        return unescape(label) if label else "@" + command.split("^", 1)[0]
    url = target
    if label:
        shown = unescape(label).replace("[", "\\[").replace("]", "\\]")
        return f"[{shown}]({url})"
    if url.startswith("mailto:"):
        return url[len("mailto:") :]
    return f"<{url}>"


def to_mrkdwn(markdown: str) -> str:
    """Markdown written by a person or a model, as Slack mrkdwn.

    Slack tokens already in the text (`<@U123>`, `<#C123>`, `<!here>`, `<https://...|label>`)
    are kept as they are, so mentions can be written the Slack way.
    """
    if not markdown:
        return ""
    markdown = markdown.replace("\x00", "").replace(_BOLD_MARK, "")

    def code(segment: str) -> str:
        if segment.startswith("```"):
            segment = _FENCE_LANG_RE.sub("```\n", segment, count=1)
        return escape(segment)

    def plain(segment: str) -> str:
        saved: list[str] = []

        def keep(value: str) -> str:
            saved.append(value)
            return _PLACEHOLDER.format(len(saved) - 1)

        segment = _NATIVE_TOKEN_RE.sub(lambda m: keep(m.group(0)), segment)
        segment = _MD_LINK_RE.sub(
            lambda m: keep(f"<{m.group(2)}|{escape(m.group(1)).replace('|', '¦')}>"),
            segment,
        )
        lines = []
        for line in segment.split("\n"):
            quote = _QUOTE_PREFIX_RE.match(line)
            # A `>` opening a line is a quote in mrkdwn too: escaping it would print "&gt;".
            lines.append("> " + escape(line[quote.end() :]) if quote else escape(line))
        segment = "\n".join(lines)
        segment = _MD_HEADING_RE.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", segment)
        segment = _MD_BULLET_RE.sub(r"\1• ", segment)
        segment = _MD_BOLD_RE.sub(lambda m: f"{_BOLD_MARK}{m.group(1) or m.group(2)}{_BOLD_MARK}", segment)
        segment = _MD_ITALIC_RE.sub(r"_\1_", segment)
        segment = _MD_STRIKE_RE.sub(r"~\1~", segment)
        segment = segment.replace(_BOLD_MARK, "*")
        return _PLACEHOLDER_RE.sub(lambda m: saved[int(m.group(1))], segment)

    return _split_code(markdown, plain, code)
