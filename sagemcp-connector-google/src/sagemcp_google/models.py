"""What the tools return: small models converted from Google's JSON by `from_api`, rendered by `to_markdown`.

A model keeps what a person or model needs to answer and to make the next call (ids, names, types,
dates, links, states), never the raw API JSON. The Markdown text is the tool result's text block;
`structuredContent` holds the same data as JSON. Sections: Drive, Docs, Sheets, Calendar, Gmail.
"""

from __future__ import annotations

from html import unescape
from typing import Any, Literal

from pydantic import BaseModel, Field

from sagemcp import Page
from sagemcp.markdown import Column, bullets, page_footer, page_table, table

__all__ = [
    "Account",
    "ActionResult",
    "AttachmentContent",
    "AttachmentInfo",
    "Attendee",
    "Calendar",
    "CalendarList",
    "CellUpdate",
    "Comment",
    "CommentList",
    "DocumentContent",
    "DocumentEdit",
    "DocumentElement",
    "DocumentStructure",
    "Draft",
    "DraftList",
    "DriveFile",
    "DriveFileList",
    "Event",
    "EventList",
    "FileContent",
    "FreeBusy",
    "Label",
    "LabelList",
    "Message",
    "MessageList",
    "MessageSummary",
    "NamedRange",
    "Permission",
    "PermissionList",
    "RangeValues",
    "RangesValues",
    "Reply",
    "SharedDrive",
    "SharedDriveList",
    "SheetInfo",
    "Spreadsheet",
    "SpreadsheetUpdate",
    "Thread",
    "ThreadList",
    "ThreadSummary",
    "obj",
]


def obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one: a missing or odd field reads as empty."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    """Google sends int64 values as strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _size(value: int | None) -> str:
    """A byte count for people: `2.5 MB`."""
    if value is None:
        return ""
    if value < 1024:
        return f"{value:,} B"
    amount = float(value)
    for unit in ("KB", "MB", "GB", "TB"):
        amount /= 1024
        if amount < 1024 or unit == "TB":
            break
    return f"{amount:.1f} {unit}"


class ActionResult(BaseModel):
    """What a write did, in one line, with the ids of what it touched."""

    done: str
    id: str | None = None
    url: str | None = None

    def to_markdown(self) -> str:
        parts = [self.done]
        if self.id:
            parts.append(f"(id `{self.id}`)")
        if self.url:
            parts.append(self.url)
        return " ".join(parts)


# -- Drive ------------------------------------------------------------------------------------

_KINDS = {
    "application/vnd.google-apps.document": "document",
    "application/vnd.google-apps.spreadsheet": "spreadsheet",
    "application/vnd.google-apps.presentation": "presentation",
    "application/vnd.google-apps.folder": "folder",
    "application/vnd.google-apps.form": "form",
    "application/vnd.google-apps.drawing": "drawing",
    "application/vnd.google-apps.shortcut": "shortcut",
    "application/pdf": "pdf",
}

FILE_FIELDS = (
    "id,name,mimeType,parents,modifiedTime,createdTime,size,webViewLink,description,starred,trashed,shared,"
    "driveId,owners(displayName,emailAddress),lastModifyingUser(displayName,emailAddress),"
    "shortcutDetails(targetId,targetMimeType),capabilities(canEdit,canComment,canShare)"
)
"""The File fields a tool asks Drive for (partial responses: Drive sends only these)."""
LIST_FIELDS = (
    "nextPageToken,incompleteSearch,files(id,name,mimeType,parents,modifiedTime,size,webViewLink,starred,"
    "driveId,owners(displayName,emailAddress),shortcutDetails(targetId))"
)


class DriveFile(BaseModel):
    """A file or folder in Drive."""

    id: str
    name: str
    kind: str = Field(description="document, spreadsheet, presentation, folder, pdf, shortcut, ... or the MIME type.")
    mime_type: str
    modified: str | None = None
    created: str | None = None
    size: int | None = Field(default=None, description="Bytes; Google Docs, Sheets and folders have none.")
    owner: str | None = None
    last_modified_by: str | None = None
    parents: list[str] = Field(default_factory=list)
    drive_id: str | None = Field(default=None, description="The shared drive holding the file, if any.")
    url: str | None = None
    description: str | None = None
    starred: bool = False
    trashed: bool = False
    shared: bool = False
    shortcut_target: str | None = Field(default=None, description="For a shortcut: the id of the file it points to.")
    can_edit: bool | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DriveFile:
        mime = str(data.get("mimeType") or "")
        owners = [o for o in data.get("owners") or () if isinstance(o, dict)]
        modifier = obj(data.get("lastModifyingUser"))
        shortcut = obj(data.get("shortcutDetails"))
        capabilities = obj(data.get("capabilities"))
        can_edit = capabilities.get("canEdit")
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            kind=_KINDS.get(mime, mime),
            mime_type=mime,
            modified=_text(data.get("modifiedTime")),
            created=_text(data.get("createdTime")),
            size=_int(data.get("size")),
            owner=(_text(owners[0].get("emailAddress")) or _text(owners[0].get("displayName"))) if owners else None,
            last_modified_by=_text(modifier.get("emailAddress")) or _text(modifier.get("displayName")),
            parents=[p for p in data.get("parents") or () if isinstance(p, str)],
            drive_id=_text(data.get("driveId")),
            url=_text(data.get("webViewLink")),
            description=_text(data.get("description")),
            starred=data.get("starred") is True,
            trashed=data.get("trashed") is True,
            shared=data.get("shared") is True,
            shortcut_target=_text(shortcut.get("targetId")),
            can_edit=can_edit if isinstance(can_edit, bool) else None,
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.name}** ({self.kind}, id `{self.id}`)"]
        facts = [
            f"modified {self.modified}" if self.modified else "",
            f"by {self.last_modified_by}" if self.last_modified_by else "",
            f"owner {self.owner}" if self.owner else "",
            _size(self.size),
            "starred" if self.starred else "",
            "in trash" if self.trashed else "",
            "shared" if self.shared else "",
            "read-only for you" if self.can_edit is False else "",
        ]
        lines.append(", ".join(f for f in facts if f))
        if self.parents:
            lines.append("Parents: " + ", ".join(f"`{p}`" for p in self.parents))
        if self.shortcut_target:
            lines.append(f"Shortcut to `{self.shortcut_target}`")
        if self.description:
            lines.append(self.description)
        if self.url:
            lines.append(self.url)
        return "\n".join(line for line in lines if line)


class DriveFileList(Page[DriveFile]):
    """A page of Drive files; pass `next_cursor` back as `cursor` for more."""

    query: str | None = Field(default=None, description="The Drive query that was run.")
    incomplete: bool = Field(default=False, description="Drive did not search every shared drive; narrow it.")

    def to_markdown(self) -> str:
        columns: list[Column] = ["id", "name", "kind", "modified", ("owner", "owner")]
        text = page_table(self, columns, title="Files", empty="No files found.")
        if self.incomplete:
            text += "\n\n_Drive searched only part of the corpora: give drive_id to search one shared drive._"
        return text


class FileContent(BaseModel):
    """A file's content as text: Docs as Markdown, Sheets as CSV, Slides and PDFs as text."""

    id: str
    name: str
    mime_type: str
    format: str = Field(description="markdown, csv or text.")
    content: str
    offset: int = 0
    total_chars: int
    truncated: bool = False
    note: str | None = None

    def to_markdown(self) -> str:
        head = f"**{self.name}** (id `{self.id}`, {self.format}"
        if self.offset:
            head += f", from character {self.offset:,}"
        head += f", {self.total_chars:,} characters)"
        parts = [head]
        if self.note:
            parts.append(f"_{self.note}_")
        if self.format == "csv":
            parts.append(f"```csv\n{self.content}\n```")
        else:
            parts.append(self.content)
        return "\n\n".join(parts)


class SharedDrive(BaseModel):
    id: str
    name: str
    created: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> SharedDrive:
        return cls(
            id=str(data.get("id") or ""), name=str(data.get("name") or ""), created=_text(data.get("createdTime"))
        )


class SharedDriveList(Page[SharedDrive]):
    def to_markdown(self) -> str:
        return page_table(self, ["id", "name", "created"], title="Shared drives", empty="No shared drives.")


class Account(BaseModel):
    """Who the connection acts as, and their Drive storage."""

    name: str | None = None
    email: str | None = None
    storage_used: int | None = None
    storage_limit: int | None = Field(default=None, description="None: unlimited.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Account:
        user = obj(data.get("user"))
        quota = obj(data.get("storageQuota"))
        return cls(
            name=_text(user.get("displayName")),
            email=_text(user.get("emailAddress")),
            storage_used=_int(quota.get("usage")),
            storage_limit=_int(quota.get("limit")),
        )

    def to_markdown(self) -> str:
        who = f"**{self.name or 'Unknown'}** <{self.email or '?'}>"
        used = _size(self.storage_used) or "?"
        limit = _size(self.storage_limit) if self.storage_limit is not None else "unlimited"
        return f"{who}\nDrive storage: {used} used of {limit}"


class Permission(BaseModel):
    """Who can reach a file, and how."""

    id: str
    type: str = Field(description="user, group, domain or anyone.")
    role: str = Field(description="owner, organizer, fileOrganizer, writer, commenter or reader.")
    email: str | None = None
    domain: str | None = None
    name: str | None = None
    expires: str | None = None
    inherited: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Permission:
        details = [d for d in data.get("permissionDetails") or () if isinstance(d, dict)]
        return cls(
            id=str(data.get("id") or ""),
            type=str(data.get("type") or ""),
            role=str(data.get("role") or ""),
            email=_text(data.get("emailAddress")),
            domain=_text(data.get("domain")),
            name=_text(data.get("displayName")),
            expires=_text(data.get("expirationTime")),
            inherited=any(d.get("inherited") is True for d in details),
        )

    def to_markdown(self) -> str:
        who = self.email or self.domain or ("anyone with the link" if self.type == "anyone" else self.type)
        return f"{self.role}: {who} (permission `{self.id}`)"


class PermissionList(Page[Permission]):
    file_id: str

    def to_markdown(self) -> str:
        columns: list[Column] = [
            "id",
            "role",
            "type",
            ("who", lambda p: p.email or p.domain or p.name or p.type),
            "inherited",
        ]
        return page_table(self, columns, title=f"Permissions of `{self.file_id}`", empty="No permissions.")


class Reply(BaseModel):
    id: str
    author: str | None = None
    content: str = ""
    created: str | None = None
    action: str | None = Field(default=None, description="resolve or reopen, when the reply did that.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Reply:
        author = obj(data.get("author"))
        return cls(
            id=str(data.get("id") or ""),
            author=_text(author.get("displayName")) or _text(author.get("emailAddress")),
            content=str(data.get("content") or ""),
            created=_text(data.get("createdTime")),
            action=_text(data.get("action")),
        )


class Comment(BaseModel):
    """A comment on a file, with its replies."""

    id: str
    author: str | None = None
    content: str = ""
    quoted: str | None = Field(default=None, description="The text of the file the comment is anchored to.")
    created: str | None = None
    resolved: bool = False
    replies: list[Reply] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Comment:
        author = obj(data.get("author"))
        quoted = obj(data.get("quotedFileContent"))
        return cls(
            id=str(data.get("id") or ""),
            author=_text(author.get("displayName")) or _text(author.get("emailAddress")),
            content=str(data.get("content") or ""),
            quoted=_text(quoted.get("value")),
            created=_text(data.get("createdTime")),
            resolved=data.get("resolved") is True,
            replies=[Reply.from_api(r) for r in data.get("replies") or () if isinstance(r, dict)],
        )

    def to_markdown(self) -> str:
        state = "resolved" if self.resolved else "open"
        lines = [
            f"**{self.author or 'someone'}** ({state}, comment `{self.id}`, {self.created or '?'}): {self.content}"
        ]
        if self.quoted:
            lines.append(f"> {' '.join(self.quoted.split())}")
        for reply in self.replies:
            action = f" [{reply.action}]" if reply.action else ""
            lines.append(f"  - {reply.author or 'someone'}{action}: {reply.content}")
        return "\n".join(lines)


class CommentList(Page[Comment]):
    file_id: str

    def to_markdown(self) -> str:
        body = bullets([c.to_markdown() for c in self.items], empty="No comments.")
        head = f"**Comments on `{self.file_id}`** ({len(self.items)})\n\n"
        return head + body + page_footer(self.next_cursor, self.truncated)


# -- Docs -------------------------------------------------------------------------------------


class DocumentContent(BaseModel):
    """A Google Doc (or one of its tabs) as Markdown."""

    id: str
    title: str
    markdown: str
    tab_id: str | None = None
    tabs: list[str] = Field(default_factory=list, description="`tab id: title` of every tab, when there are several.")
    revision_id: str | None = None
    offset: int = 0
    total_chars: int
    truncated: bool = False
    url: str

    def to_markdown(self) -> str:
        head = f"**{self.title}** (document `{self.id}`"
        if self.tab_id:
            head += f", tab `{self.tab_id}`"
        if self.offset:
            head += f", from character {self.offset:,}"
        head += f", {self.total_chars:,} characters of Markdown)"
        parts = [head]
        if len(self.tabs) > 1:
            parts.append("Tabs: " + "; ".join(self.tabs))
        parts.append(self.markdown)
        return "\n\n".join(parts)


class DocumentElement(BaseModel):
    """One element of a document's body with its index range (UTF-16 code units, as the Docs API counts)."""

    start: int
    end: int
    type: str = Field(description="heading1-6, title, paragraph, list_item, table, table_of_contents, section_break.")
    text: str = Field(default="", description="The element's text (first 100 characters); a table's size.")


class NamedRange(BaseModel):
    id: str
    name: str
    ranges: list[tuple[int, int]]


class DocumentStructure(Page[DocumentElement]):
    """A document's body as elements with their indexes, for edits at a position."""

    id: str
    title: str
    tab_id: str | None = None
    end_index: int = Field(description="The body's end: text appended goes before end_index - 1.")
    named_ranges: list[NamedRange] = Field(default_factory=list)
    header_id: str | None = None
    footer_id: str | None = None

    def to_markdown(self) -> str:
        head = f"**{self.title}** (document `{self.id}`, body ends at {self.end_index})"
        text = page_table(self, ["start", "end", "type", "text"], title=None, empty="The body is empty.")
        parts = [head, text]
        if self.named_ranges:
            parts.append(
                "Named ranges: "
                + "; ".join(
                    f"{r.name} `{r.id}` {', '.join(f'{a}-{b}' for a, b in r.ranges)}" for r in self.named_ranges
                )
            )
        if self.header_id or self.footer_id:
            parts.append(f"Header `{self.header_id or '-'}`, footer `{self.footer_id or '-'}`")
        return "\n\n".join(parts)


class DocumentEdit(BaseModel):
    """What an edit of a document did."""

    id: str
    done: str
    requests: int = Field(description="How many Docs requests were applied.")
    revision_id: str | None = None
    changed: int | None = Field(default=None, description="Occurrences replaced, for find-and-replace.")
    replies: list[dict[str, Any]] = Field(default_factory=list, description="Docs' replies that carry data (new ids).")
    url: str

    def to_markdown(self) -> str:
        lines = [f"{self.done} (document `{self.id}`, {self.requests} request(s) applied)", self.url]
        if self.replies:
            import json

            lines.append("Replies: " + json.dumps(self.replies, separators=(",", ":"))[:2000])
        return "\n".join(lines)


# -- Sheets -----------------------------------------------------------------------------------


class SheetInfo(BaseModel):
    id: int
    title: str
    index: int = 0
    rows: int | None = None
    columns: int | None = None
    frozen_rows: int = 0
    hidden: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> SheetInfo:
        props = obj(data.get("properties")) or data
        grid = obj(props.get("gridProperties"))
        return cls(
            id=int(props.get("sheetId") or 0),
            title=str(props.get("title") or ""),
            index=int(props.get("index") or 0),
            rows=_int(grid.get("rowCount")),
            columns=_int(grid.get("columnCount")),
            frozen_rows=int(grid.get("frozenRowCount") or 0),
            hidden=props.get("hidden") is True,
        )


class Spreadsheet(BaseModel):
    """A spreadsheet's metadata: its sheets with their sizes, and its named ranges."""

    id: str
    title: str
    locale: str | None = None
    time_zone: str | None = None
    sheets: list[SheetInfo] = Field(default_factory=list)
    named_ranges: dict[str, str] = Field(default_factory=dict, description="Name -> sheet id and bounds.")
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Spreadsheet:
        props = obj(data.get("properties"))
        named: dict[str, str] = {}
        for item in data.get("namedRanges") or ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                grid = item.get("range") or {}
                named[item["name"]] = (
                    f"sheet {grid.get('sheetId', 0)} rows {grid.get('startRowIndex', 0)}-{grid.get('endRowIndex', '')} "
                    f"columns {grid.get('startColumnIndex', 0)}-{grid.get('endColumnIndex', '')}"
                )
        return cls(
            id=str(data.get("spreadsheetId") or ""),
            title=str(props.get("title") or ""),
            locale=_text(props.get("locale")),
            time_zone=_text(props.get("timeZone")),
            sheets=[SheetInfo.from_api(s) for s in data.get("sheets") or () if isinstance(s, dict)],
            named_ranges=named,
            url=_text(data.get("spreadsheetUrl")),
        )

    def to_markdown(self) -> str:
        head = f"**{self.title}** (spreadsheet `{self.id}`, {self.locale or '?'}, {self.time_zone or '?'})"
        rows = table(
            self.sheets,
            [("sheet id", "id"), "title", "rows", "columns", ("frozen rows", "frozen_rows"), "hidden"],
            empty="No sheets.",
        )
        parts = [head, rows]
        if self.named_ranges:
            parts.append("Named ranges: " + "; ".join(f"{k} ({v})" for k, v in self.named_ranges.items()))
        if self.url:
            parts.append(self.url)
        return "\n\n".join(parts)


class RangeValues(BaseModel):
    """Cell values of a range, as CSV or a Markdown table."""

    range: str
    format: str
    content: str
    rows: int = Field(description="Rows shown.")
    total_rows: int = Field(description="Rows the range holds, up to its last row with a value.")
    total_rows_bound: Literal["exact", "at_least", "at_most"] = Field(
        default="exact",
        description="Whether total_rows is exact, or only a lower or upper bound (rows not read are not guessed).",
    )
    first_row: int = Field(default=0, description="Index (0-based, within the range) of the first row shown.")
    columns: int = 0
    header_repeated: bool = Field(
        default=False, description="The content starts with the range's first row (its header), then the rows shown."
    )
    truncated: bool = False
    hint: str | None = None

    def to_markdown(self) -> str:
        """One line of what is shown, then the values; the way to the next rows last."""
        shown = f"rows {self.first_row + 1}-{self.first_row + self.rows}" if self.rows else "no rows"
        kind = "CSV" if self.format == "csv" else "Markdown table"
        repeated = " (the header row first)" if self.header_repeated else ""
        bound = {"exact": "", "at_least": "at least ", "at_most": "at most "}[self.total_rows_bound]
        head = f"{self.range}: {shown} of {bound}{self.total_rows}{repeated}, {self.columns} columns ({kind})"
        body = self.content.rstrip("\n")
        tail = f"\n…{self.hint}" if self.hint else ""
        return f"{head}\n{body}{tail}" if body else f"{head}{tail}"


class RangesValues(BaseModel):
    spreadsheet_id: str
    ranges: list[RangeValues]

    def to_markdown(self) -> str:
        return "\n\n".join(r.to_markdown() for r in self.ranges) or "No ranges."


class CellUpdate(BaseModel):
    """What a write to cells changed."""

    spreadsheet_id: str
    range: str
    rows: int = 0
    columns: int = 0
    cells: int = 0

    @classmethod
    def from_api(cls, spreadsheet_id: str, data: dict[str, Any]) -> CellUpdate:
        return cls(
            spreadsheet_id=spreadsheet_id,
            range=str(data.get("updatedRange") or data.get("clearedRange") or ""),
            rows=int(data.get("updatedRows") or 0),
            columns=int(data.get("updatedColumns") or 0),
            cells=int(data.get("updatedCells") or 0),
        )

    def to_markdown(self) -> str:
        return f"Updated {self.range}: {self.cells} cells in {self.rows} rows (spreadsheet `{self.spreadsheet_id}`)."


class SpreadsheetUpdate(BaseModel):
    spreadsheet_id: str
    done: str
    sheet_id: int | None = None
    changed: int | None = None

    def to_markdown(self) -> str:
        sheet = f", sheet id {self.sheet_id}" if self.sheet_id is not None else ""
        return f"{self.done} (spreadsheet `{self.spreadsheet_id}`{sheet})"


# -- Calendar ---------------------------------------------------------------------------------


class Calendar(BaseModel):
    id: str
    name: str
    primary: bool = False
    access_role: str | None = Field(default=None, description="owner, writer, reader or freeBusyReader.")
    time_zone: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Calendar:
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("summaryOverride") or data.get("summary") or ""),
            primary=data.get("primary") is True,
            access_role=_text(data.get("accessRole")),
            time_zone=_text(data.get("timeZone")),
        )


class CalendarList(Page[Calendar]):
    def to_markdown(self) -> str:
        columns: list[Column] = ["id", "name", "primary", ("access", "access_role"), ("time zone", "time_zone")]
        return page_table(self, columns, title="Calendars", empty="No calendars.")


class Attendee(BaseModel):
    email: str
    name: str | None = None
    response: str = Field(default="needsAction", description="needsAction, accepted, declined or tentative.")
    optional: bool = False
    organizer: bool = False
    is_self: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Attendee:
        return cls(
            email=str(data.get("email") or ""),
            name=_text(data.get("displayName")),
            response=str(data.get("responseStatus") or "needsAction"),
            optional=data.get("optional") is True,
            organizer=data.get("organizer") is True,
            is_self=data.get("self") is True,
        )


def _when(value: Any) -> tuple[str | None, bool]:
    """An event time as sent (RFC 3339 with offset, or a date for all-day events), and whether all-day."""
    if not isinstance(value, dict):
        return None, False
    if isinstance(value.get("dateTime"), str):
        return value["dateTime"], False
    return _text(value.get("date")), True


class Event(BaseModel):
    """A calendar event; times are RFC 3339 with their offset (dates for all-day events)."""

    id: str
    summary: str = ""
    start: str | None = None
    end: str | None = None
    all_day: bool = False
    time_zone: str | None = None
    status: str | None = None
    location: str | None = None
    description: str | None = None
    organizer: str | None = None
    attendees: list[Attendee] = Field(default_factory=list)
    meet_link: str | None = None
    recurrence: list[str] = Field(default_factory=list)
    recurring_event_id: str | None = None
    my_response: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], description_limit: int = 2000) -> Event:
        start, all_day = _when(data.get("start"))
        end, _ = _when(data.get("end"))
        attendees = [Attendee.from_api(a) for a in data.get("attendees") or () if isinstance(a, dict)]
        me = next((a for a in attendees if a.is_self), None)
        organizer = obj(data.get("organizer"))
        meet = _text(data.get("hangoutLink"))
        conference = obj(data.get("conferenceData"))
        for point in conference.get("entryPoints") or ():
            if isinstance(point, dict) and point.get("entryPointType") == "video" and not meet:
                meet = _text(point.get("uri"))
        description = _text(data.get("description"))
        if description and len(description) > description_limit:
            description = description[:description_limit] + "…"
        start_zone = (data.get("start") or {}).get("timeZone") if isinstance(data.get("start"), dict) else None
        return cls(
            id=str(data.get("id") or ""),
            summary=str(data.get("summary") or "(no title)"),
            start=start,
            end=end,
            all_day=all_day,
            time_zone=_text(start_zone),
            status=_text(data.get("status")),
            location=_text(data.get("location")),
            description=description,
            organizer=_text(organizer.get("email")),
            attendees=attendees,
            meet_link=meet,
            recurrence=[r for r in data.get("recurrence") or () if isinstance(r, str)],
            recurring_event_id=_text(data.get("recurringEventId")),
            my_response=me.response if me else None,
            url=_text(data.get("htmlLink")),
        )

    def to_markdown(self) -> str:
        when = f"{self.start} - {self.end}" + (" (all day)" if self.all_day else "")
        lines = [f"**{self.summary}** (event `{self.id}`)", when]
        if self.time_zone:
            lines[-1] += f", {self.time_zone}"
        facts = [
            f"status {self.status}" if self.status and self.status != "confirmed" else "",
            f"at {self.location}" if self.location else "",
            f"organizer {self.organizer}" if self.organizer else "",
            f"your answer: {self.my_response}" if self.my_response else "",
        ]
        if any(facts):
            lines.append(", ".join(f for f in facts if f))
        if self.attendees:
            lines.append("Attendees: " + ", ".join(f"{a.email} ({a.response})" for a in self.attendees[:50]))
        if self.recurrence:
            lines.append("Repeats: " + "; ".join(self.recurrence))
        if self.meet_link:
            lines.append(f"Meet: {self.meet_link}")
        if self.description:
            lines.append(self.description)
        if self.url:
            lines.append(self.url)
        return "\n".join(lines)


class EventList(Page[Event]):
    calendar_id: str
    time_zone: str | None = Field(default=None, description="The zone the times are given in.")
    time_min: str | None = None
    time_max: str | None = None

    def to_markdown(self) -> str:
        title = f"Events of `{self.calendar_id}` from {self.time_min or '?'} to {self.time_max or '?'}"
        if self.time_zone:
            title += f" ({self.time_zone})"
        columns: list[Column] = [
            "id",
            "start",
            "end",
            "summary",
            ("you", "my_response"),
            ("meet", lambda e: "yes" if e.meet_link else ""),
        ]
        return page_table(self, columns, title=title, empty="No events in this window.")


class FreeBusy(BaseModel):
    """Busy intervals per calendar (person) in a window."""

    time_min: str
    time_max: str
    busy: dict[str, list[tuple[str, str]]]
    errors: dict[str, str] = Field(default_factory=dict, description="Calendars Google could not read, and why.")

    def to_markdown(self) -> str:
        lines = [f"**Free/busy** {self.time_min} - {self.time_max}"]
        for who, spans in self.busy.items():
            text = ", ".join(f"{a} - {b}" for a, b in spans) if spans else "free the whole window"
            lines.append(f"- {who}: {text}")
        for who, reason in self.errors.items():
            lines.append(f"- {who}: unknown ({reason})")
        return "\n".join(lines)


# -- Gmail ------------------------------------------------------------------------------------


def _header_map(payload: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(payload, dict):
        for header in payload.get("headers") or ():
            if isinstance(header, dict) and isinstance(header.get("name"), str):
                found.setdefault(header["name"].lower(), str(header.get("value") or ""))
    return found


class MessageSummary(BaseModel):
    """One message of a search: who, when, subject, snippet, labels."""

    id: str
    thread_id: str
    date: str | None = None
    sender: str | None = None
    to: str | None = None
    subject: str = ""
    snippet: str = ""
    labels: list[str] = Field(default_factory=list)
    unread: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> MessageSummary:
        headers = _header_map(data.get("payload"))
        labels = [label for label in data.get("labelIds") or () if isinstance(label, str)]
        return cls(
            id=str(data.get("id") or ""),
            thread_id=str(data.get("threadId") or ""),
            date=headers.get("date"),
            sender=headers.get("from"),
            to=headers.get("to"),
            subject=headers.get("subject", ""),
            snippet=unescape(str(data.get("snippet") or ""))[:200],
            labels=labels,
            unread="UNREAD" in labels,
        )


class MessageList(Page[MessageSummary]):
    query: str | None = None
    estimated_total: int | None = Field(default=None, description="Gmail's estimate of all matches.")

    def to_markdown(self) -> str:
        columns: list[Column] = [
            "id",
            ("date", "date"),
            ("from", "sender"),
            "subject",
            ("unread", lambda m: "yes" if m.unread else ""),
        ]
        title = f"Messages matching `{self.query}`" if self.query else "Messages"
        text = page_table(self, columns, title=title, empty="No messages found.", max_cell=80)
        return text


class AttachmentInfo(BaseModel):
    filename: str
    mime_type: str
    size: int
    attachment_id: str | None = None


class Message(BaseModel):
    """A message read as text: headers, body (quoted history folded, size-capped) and attachments."""

    id: str
    thread_id: str
    date: str | None = None
    sender: str | None = None
    to: str | None = None
    cc: str | None = None
    subject: str = ""
    message_id_header: str | None = Field(default=None, description="The RFC 5322 Message-ID.")
    labels: list[str] = Field(default_factory=list)
    body: str = ""
    body_source: str = Field(default="plain", description="plain, or html converted to Markdown.")
    truncated: bool = False
    folded_lines: int = Field(default=0, description="Quoted lines left out.")
    attachments: list[AttachmentInfo] = Field(default_factory=list)

    def to_markdown(self) -> str:
        lines = [f"### {self.subject or '(no subject)'}", f"From: {self.sender or '?'}", f"Date: {self.date or '?'}"]
        if self.to:
            lines.append(f"To: {self.to}")
        if self.cc:
            lines.append(f"Cc: {self.cc}")
        lines.append(f"Message `{self.id}` in thread `{self.thread_id}`; labels: {', '.join(self.labels) or '-'}")
        parts = ["\n".join(lines), self.body or "_(no text body)_"]
        if self.folded_lines:
            parts.append(f"_[{self.folded_lines} quoted lines folded; include_quoted=true shows them]_")
        if self.attachments:
            parts.append(
                "Attachments:\n"
                + bullets(
                    f"{a.filename} ({a.mime_type}, {_size(a.size)}, id `{a.attachment_id}`)" for a in self.attachments
                )
            )
        return "\n\n".join(parts)


class ThreadSummary(BaseModel):
    id: str
    subject: str = ""
    participants: str = ""
    messages: int = 0
    last_date: str | None = None
    snippet: str = ""
    unread: bool = False


class ThreadList(Page[ThreadSummary]):
    query: str | None = None

    def to_markdown(self) -> str:
        columns: list[Column] = ["id", ("last", "last_date"), "subject", ("people", "participants"), "messages"]
        title = f"Threads matching `{self.query}`" if self.query else "Threads"
        return page_table(self, columns, title=title, empty="No threads found.", max_cell=80)


class Thread(BaseModel):
    id: str
    subject: str = ""
    messages: list[Message]
    truncated: bool = False
    omitted: int = Field(default=0, description="Earlier messages left out to fit the size cap.")

    def to_markdown(self) -> str:
        head = f"**Thread `{self.id}`: {self.subject}** ({len(self.messages)} messages shown)"
        if self.omitted:
            head += f"; {self.omitted} earlier messages left out (read them with google_get_message)"
        return "\n\n---\n\n".join([head, *(m.to_markdown() for m in self.messages)])


class Label(BaseModel):
    id: str
    name: str
    type: str = "user"
    messages: int | None = None
    unread: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Label:
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            type=str(data.get("type") or "user"),
            messages=_int(data.get("messagesTotal")),
            unread=_int(data.get("messagesUnread")),
        )


class LabelList(Page[Label]):
    def to_markdown(self) -> str:
        return page_table(self, ["id", "name", "type"], title="Labels", empty="No labels.")


class Draft(BaseModel):
    id: str
    message_id: str | None = None
    thread_id: str | None = None
    subject: str | None = None
    to: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Draft:
        message = obj(data.get("message"))
        headers = _header_map(message.get("payload"))
        return cls(
            id=str(data.get("id") or ""),
            message_id=_text(message.get("id")),
            thread_id=_text(message.get("threadId")),
            subject=headers.get("subject"),
            to=headers.get("to"),
        )

    def to_markdown(self) -> str:
        what = f" {self.subject!r}" if self.subject else ""
        return (
            f"Draft `{self.id}`{what}"
            + (f" to {self.to}" if self.to else "")
            + (f" (message `{self.message_id}`, thread `{self.thread_id}`)" if self.message_id else "")
        )


class DraftList(Page[Draft]):
    def to_markdown(self) -> str:
        return page_table(self, ["id", "subject", "to", ("message", "message_id")], title="Drafts", empty="No drafts.")


class AttachmentContent(BaseModel):
    message_id: str
    attachment_id: str
    filename: str | None = None
    mime_type: str | None = None
    size: int
    content: str | None = Field(default=None, description="The text, for text-like attachments within the cap.")
    truncated: bool = False
    note: str | None = None

    def to_markdown(self) -> str:
        head = f"**{self.filename or 'attachment'}** ({self.mime_type or '?'}, {_size(self.size)})"
        parts = [head]
        if self.note:
            parts.append(f"_{self.note}_")
        if self.content is not None:
            parts.append(self.content)
        return "\n\n".join(parts)
