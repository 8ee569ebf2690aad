"""`drive` tools: find, read and organise files and folders in My Drive and shared drives.

Every search is built by `sagemcp_google._drive_query.DriveQuery` from typed filters; no argument is
pasted into Drive's query language. Calls that take a file id send `supportsAllDrives=true`, and
listings search shared drives too (`corpora=allDrives`) unless one drive is named.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, clip, tool
from sagemcp.errors import InvalidArguments

from .._drive_query import FOLDER, MIME_TYPES, DriveQuery
from .._extract import OFFICE_TYPES, ExtractionError, docx_text, pdf_text, pptx_text, xlsx_csv
from .._resumable import (
    DEFAULT_CHUNK_BYTES,
    DEFAULT_MAX_UPLOAD_BYTES,
    MAX_UPLOAD_CEILING,
    MULTIPART_LIMIT,
    resumable_upload,
)
from .._scopes import DRIVE_READ, DRIVE_WRITE
from .._services import segment, upload_url
from ..models import (
    FILE_FIELDS,
    LIST_FIELDS,
    Account,
    DriveFile,
    DriveFileList,
    FileContent,
    SharedDrive,
    SharedDriveList,
)
from ._common import FileId, MaxChars, Offset, config_of, next_page, page_token, url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["DriveTools", "read_file_content"]

Kind = Literal["document", "spreadsheet", "presentation", "folder", "form", "drawing", "pdf", "shortcut"]
OrderBy = Literal["modifiedTime desc", "modifiedTime", "name", "name desc", "createdTime desc", "folder,name"]
ConvertTo = Literal["document", "spreadsheet", "presentation"]

MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024
"""Files larger than this are not downloaded to be read (Drive's own export limit is 10 MB too)."""
DEFAULT_CHARS = 20_000

EXPORTS = {
    "application/vnd.google-apps.document": ("text/markdown", "markdown"),
    "application/vnd.google-apps.spreadsheet": ("text/csv", "csv"),
    "application/vnd.google-apps.presentation": ("text/plain", "text"),
    "application/vnd.google-apps.script": ("application/vnd.google-apps.script+json", "text"),
}
"""Google formats Drive exports as text, and the export MIME type used (Sheets: the first sheet only)."""
_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-yaml",
    "application/yaml",
    "application/sql",
    "application/x-sh",
    "application/toml",
    "image/svg+xml",
)

FolderId = Annotated[
    str,
    Field(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="A folder id, or `root` for My Drive."
    ),
]
DriveId = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="A shared drive's id.")
]
FileName = Annotated[str, Field(min_length=1, max_length=1000, description="The file's name, as shown in Drive.")]


def all_drives(params: dict[str, Any], drive_id: str | None) -> dict[str, Any]:
    """`params` with shared drives included: all of them, or the one named."""
    params.update(supportsAllDrives="true", includeItemsFromAllDrives="true")
    if drive_id:
        params.update(corpora="drive", driveId=drive_id)
    else:
        params["corpora"] = "allDrives"
    return params


async def list_page(
    ctx: ToolContext[GoogleConfig],
    query: DriveQuery,
    *,
    limit: int,
    cursor: str | None,
    order_by: str | None,
    drive_id: str | None,
    bind: dict[str, Any],
) -> DriveFileList:
    """One page of `files.list` for `query`."""
    q = str(query)
    params: dict[str, Any] = {"q": q, "pageSize": limit, "fields": LIST_FIELDS, "orderBy": order_by}
    params["pageToken"] = page_token(cursor, bind)
    all_drives(params, drive_id)
    response = await ctx.http.get(url(ctx, "drive", "files"), params=params)
    data = response.json_object()
    return DriveFileList(
        items=[DriveFile.from_api(f) for f in response.json_list("files", of=dict)],
        next_cursor=next_page(data, bind),
        query=q,
        incomplete=data.get("incompleteSearch") is True,
    )


async def get_metadata(ctx: ToolContext[GoogleConfig], file_id: str, fields: str = FILE_FIELDS) -> dict[str, Any]:
    params = {"fields": fields, "supportsAllDrives": "true"}
    response = await ctx.http.get(url(ctx, "drive", f"files/{segment(file_id)}"), params=params)
    return response.json_object()


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml"))


async def read_file_content(
    ctx: ToolContext[GoogleConfig], file_id: str, offset: int, max_chars: int, hint_tool: str
) -> FileContent:
    """A file as text (see `google_read_file`), from character `offset`, at most `max_chars` of it."""
    meta = await get_metadata(ctx, file_id, "id,name,mimeType,size,shortcutDetails(targetId,targetMimeType)")
    shortcut = meta.get("shortcutDetails")
    if isinstance(shortcut, dict) and isinstance(shortcut.get("targetId"), str):
        meta = await get_metadata(ctx, shortcut["targetId"], "id,name,mimeType,size")
    real_id = str(meta.get("id") or file_id)
    name, mime = str(meta.get("name") or ""), str(meta.get("mimeType") or "")
    size = int(meta["size"]) if str(meta.get("size") or "").isdigit() else None
    note: str | None = None
    file_path = f"files/{segment(real_id)}"
    if mime in EXPORTS:
        export, fmt = EXPORTS[mime]
        response = await ctx.http.get(url(ctx, "drive", f"{file_path}/export"), params={"mimeType": export})
        text = response.content.decode("utf-8", errors="replace")
        if fmt == "csv":
            note = "First sheet only: read other sheets with google_read_range."
    elif mime == FOLDER:
        raise InvalidArguments(
            f"{name!r} is a folder: list what it holds with google_list_files(folder_id={real_id!r})",
            [("file_id", "a folder has no content")],
        )
    elif mime.startswith("application/vnd.google-apps."):
        raise InvalidArguments(
            f"Drive cannot export {name!r} ({mime}) as text; open it in Google's app from google_get_file's URL",
            [("file_id", "no text export for this kind of file")],
        )
    else:
        if size is not None and size > MAX_DOWNLOAD_BYTES:
            raise InvalidArguments(
                f"{name!r} is {size:,} bytes, more than the {MAX_DOWNLOAD_BYTES:,} bytes read here; open it from "
                "google_get_file's URL, or copy it as a Google Doc with google_copy_file(convert_to=...) and read that",
                [("file_id", "file too large to read")],
            )
        response = await ctx.http.get(
            url(ctx, "drive", file_path), params={"alt": "media", "supportsAllDrives": "true"}
        )
        text, fmt, note = _decode(response.content, mime, name)
    window = text[offset:]
    shown, cut = clip(
        window,
        max_chars,
        lambda n: f"call {hint_tool} with file_id={real_id!r} and offset={offset + n} for more",
    )
    return FileContent(
        id=real_id,
        name=name,
        mime_type=mime,
        format=fmt,
        content=shown,
        offset=offset,
        total_chars=len(text),
        truncated=cut,
        note=note,
    )


def _decode(data: bytes, mime: str, name: str) -> tuple[str, str, str | None]:
    """Text, format and a note for downloaded bytes; `InvalidArguments` for what cannot be read as text."""
    try:
        if mime == "application/pdf":
            return pdf_text(data), "text", "Text extracted from the PDF; layout and images are not kept."
        kind = OFFICE_TYPES.get(mime)
        if kind == "docx":
            return docx_text(data), "text", "Text of the Word document's paragraphs."
        if kind == "pptx":
            return pptx_text(data), "text", "Text of the slides."
        if kind == "xlsx":
            return xlsx_csv(data), "csv", "First worksheet only, values as last calculated."
    except ExtractionError as exc:
        raise InvalidArguments(f"{name!r} could not be read: {exc}", [("file_id", str(exc))]) from None
    if _is_text(mime) or (b"\x00" not in data[:8192] and _mostly_text(data)):
        return data.decode("utf-8", errors="replace"), "text", None
    raise InvalidArguments(
        f"{name!r} ({mime or 'unknown type'}) is a binary file, not readable as text; open it from "
        "google_get_file's URL, or for Office formats copy it as a Google file with google_copy_file(convert_to=...)",
        [("file_id", "binary file")],
    )


def _mostly_text(data: bytes) -> bool:
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 65536 - 4  # a character cut at the sample's end
    return True


_BASE64_CEILING = (MAX_UPLOAD_CEILING + 2) // 3 * 4


def _too_large(size: int, limit: int, field: str) -> InvalidArguments:
    return InvalidArguments(
        f"the content is {size:,} bytes; google_create_file uploads at most {limit:,} (the connector's "
        "max_upload_bytes: an operator can raise it, up to 256 MiB)",
        [(field, "too large")],
    )


def multipart(metadata: dict[str, Any], content: bytes, mime_type: str) -> tuple[bytes, str]:
    """A `multipart/related` body (metadata JSON, then the media) and its content type, for a multipart upload."""
    boundary = "sagemcp_" + secrets.token_hex(12)
    head = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
        f"{json.dumps(metadata)}\r\n--{boundary}\r\nContent-Type: {mime_type}\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/related; boundary={boundary}"


class DriveTools:
    """The `drive` group."""

    @tool(read_only=True, group="drive", scopes=DRIVE_READ)
    async def search_files(
        self,
        ctx: ToolContext[GoogleConfig],
        text: Annotated[
            str | None, Field(max_length=500, description="Words to find in file names, descriptions and content.")
        ] = None,
        name_contains: Annotated[str | None, Field(max_length=500, description="Part of the file name.")] = None,
        kinds: Annotated[list[Kind] | None, Field(max_length=8, description="Only these kinds of file.")] = None,
        folder_id: Annotated[FolderId | None, Field(description="Only files directly in this folder.")] = None,
        owner: Annotated[str | None, Field(max_length=320, description="Only files owned by this email.")] = None,
        modified_after: Annotated[
            datetime | None, Field(description="Modified after (ISO 8601; UTC if no offset).")
        ] = None,
        modified_before: Annotated[datetime | None, Field(description="Modified before (ISO 8601).")] = None,
        shared_with_me: Annotated[bool, Field(description="Only files others shared with the user.")] = False,
        starred: Annotated[bool, Field(description="Only starred files.")] = False,
        in_trash: Annotated[bool, Field(description="Search the trash instead.")] = False,
        drive_id: Annotated[DriveId | None, Field(description="Search only this shared drive.")] = None,
        order_by: Annotated[OrderBy | None, Field(description="Sort order; relevance when `text` is given.")] = None,
        limit: Annotated[int, Limit(maximum=100, what="Files")] = 20,
        cursor: Cursor = None,
    ) -> DriveFileList:
        """Search Drive (mine, shared with me, shared drives) by words, name, kind, folder, owner, dates.

        Returns id, name, kind, modified time and owner; read with google_read_file.
        """
        query = (
            DriveQuery()
            .full_text(text)
            .name_contains(name_contains)
            .mime_types([MIME_TYPES[k] for k in kinds or ()])
            .in_folder(folder_id)
            .owner(owner)
            .modified_after(modified_after)
            .modified_before(modified_before)
            .shared_with_me(shared_with_me)
            .starred(starred)
            .trashed(in_trash)
        )
        # Drive refuses orderBy with fullText: results are by relevance then.
        order = None if text else (order_by or "modifiedTime desc")
        bind = {"q": str(query), "order": order, "drive": drive_id}
        return await list_page(ctx, query, limit=limit, cursor=cursor, order_by=order, drive_id=drive_id, bind=bind)

    @tool(read_only=True, group="drive", scopes=DRIVE_READ)
    async def list_files(
        self,
        ctx: ToolContext[GoogleConfig],
        folder_id: FolderId = "root",
        kinds: Annotated[list[Kind] | None, Field(max_length=8, description="Only these kinds of file.")] = None,
        order_by: Annotated[OrderBy, Field(description="Sort order.")] = "folder,name",
        limit: Annotated[int, Limit(maximum=100, what="Files")] = 50,
        cursor: Cursor = None,
    ) -> DriveFileList:
        """List a Drive folder's contents (default: the top of My Drive), folders first."""
        query = DriveQuery().in_folder(folder_id).mime_types([MIME_TYPES[k] for k in kinds or ()]).trashed(False)
        bind = {"folder": folder_id, "kinds": sorted(kinds or ()), "order": order_by}
        return await list_page(ctx, query, limit=limit, cursor=cursor, order_by=order_by, drive_id=None, bind=bind)

    @tool(read_only=True, group="drive", scopes=DRIVE_READ)
    async def get_file(self, ctx: ToolContext[GoogleConfig], file_id: FileId) -> DriveFile:
        """Get a Drive file's metadata: name, kind, size, owner, parents, dates, sharing, link."""
        return DriveFile.from_api(await get_metadata(ctx, file_id))

    @tool(read_only=True, group="drive", scopes=DRIVE_READ)
    async def read_file(
        self,
        ctx: ToolContext[GoogleConfig],
        file_id: FileId,
        offset: Offset = 0,
        max_chars: MaxChars = DEFAULT_CHARS,
    ) -> FileContent:
        """Read a Drive file as text: Docs as Markdown, Sheets (first sheet) as CSV, Slides, PDF, Office.

        Long content is cut at `max_chars`, naming the `offset` for the rest; 10 MB at most.
        """
        return await read_file_content(ctx, file_id, offset, max_chars, "google_read_file")

    @tool(read_only=True, group="drive", scopes=DRIVE_READ)
    async def list_shared_drives(
        self,
        ctx: ToolContext[GoogleConfig],
        name_contains: Annotated[str | None, Field(max_length=200, description="Part of the drive's name.")] = None,
        limit: Annotated[int, Limit(maximum=100, what="Drives")] = 50,
        cursor: Cursor = None,
    ) -> SharedDriveList:
        """List the shared drives you belong to: id (usable as drive_id or folder_id) and name."""
        from .._drive_query import literal

        q = f"name contains {literal(name_contains)}" if name_contains else None
        bind = {"q": q}
        params = {"pageSize": limit, "q": q, "pageToken": page_token(cursor, bind)}
        response = await ctx.http.get(url(ctx, "drive", "drives"), params=params)
        data = response.json_object()
        drives = [SharedDrive.from_api(d) for d in response.json_list("drives", of=dict)]
        return SharedDriveList(items=drives, next_cursor=next_page(data, bind))

    @tool(read_only=True, group="drive", scopes=DRIVE_READ)
    async def get_account(self, ctx: ToolContext[GoogleConfig]) -> Account:
        """Who this Google connection acts as (name, email) and their Drive storage use."""
        response = await ctx.http.get(url(ctx, "drive", "about"), params={"fields": "user,storageQuota"})
        return Account.from_api(response.json_object())

    @tool(read_only=False, group="drive", destructive=False, idempotent=False, scopes=DRIVE_WRITE)
    async def create_folder(
        self, ctx: ToolContext[GoogleConfig], name: FileName, parent_id: FolderId = "root"
    ) -> DriveFile:
        """Create a folder (in My Drive's top level unless a parent folder or shared drive id is given)."""
        body = {"name": name, "mimeType": FOLDER, "parents": [parent_id]}
        params = {"fields": FILE_FIELDS, "supportsAllDrives": "true"}
        response = await ctx.http.post(url(ctx, "drive", "files"), json=body, params=params)
        return DriveFile.from_api(response.json_object())

    @tool(read_only=False, group="drive", destructive=False, idempotent=False, scopes=DRIVE_WRITE)
    async def create_file(
        self,
        ctx: ToolContext[GoogleConfig],
        name: FileName,
        content: Annotated[str, Field(max_length=MAX_UPLOAD_CEILING, description="The file's content as text.")] = "",
        content_base64: Annotated[
            str | None,
            Field(max_length=_BASE64_CEILING, description="Binary content, base64, instead of `content`."),
        ] = None,
        mime_type: Annotated[
            str, Field(max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$", description="The content's MIME type.")
        ] = "text/plain",
        parent_id: FolderId = "root",
        convert_to: Annotated[
            ConvertTo | None,
            Field(
                description="Store it as a Google Doc (from text, HTML, Word...), Sheet (from CSV, Excel) or Slides."
            ),
        ] = None,
        description: Annotated[str | None, Field(max_length=4000, description="The file's description.")] = None,
    ) -> DriveFile:
        """Upload a file into a Drive folder, optionally converted (CSV to a Sheet, Markdown or HTML to a Doc).

        Large files go in a resumable upload. For a formatted Doc from Markdown: google_create_document.
        """
        config = config_of(ctx)
        limit = config.max_upload_bytes if config is not None else DEFAULT_MAX_UPLOAD_BYTES
        if content_base64 is not None:
            if len(content_base64) > (limit + 2) // 3 * 4 + 4:
                raise _too_large(len(content_base64) * 3 // 4, limit, "content_base64")
            try:
                data = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidArguments(
                    "content_base64 is not valid base64", [("content_base64", "not base64")]
                ) from None
        else:
            data = content.encode("utf-8")
        if len(data) > limit:
            raise _too_large(len(data), limit, "content" if content_base64 is None else "content_base64")
        metadata: dict[str, Any] = {"name": name, "parents": [parent_id]}
        if convert_to is not None:
            metadata["mimeType"] = MIME_TYPES[convert_to]
        if description:
            metadata["description"] = description
        params = {"fields": FILE_FIELDS, "supportsAllDrives": "true"}
        target = upload_url(config, "drive", "files")
        if len(data) > MULTIPART_LIMIT:
            chunk = config.upload_chunk_bytes if config is not None else DEFAULT_CHUNK_BYTES
            created = await resumable_upload(
                ctx, target, metadata=metadata, data=data, mime_type=mime_type, params=params, chunk_size=chunk
            )
            return DriveFile.from_api(created)
        body, content_type = multipart(metadata, data, mime_type)
        response = await ctx.http.post(
            target,
            content=body,
            params={"uploadType": "multipart", **params},
            headers={"Content-Type": content_type},
        )
        return DriveFile.from_api(response.json_object())

    @tool(read_only=False, group="drive", destructive=False, idempotent=False, scopes=DRIVE_WRITE)
    async def copy_file(
        self,
        ctx: ToolContext[GoogleConfig],
        file_id: FileId,
        name: Annotated[
            str | None, Field(max_length=1000, description="The copy's name (default: Copy of ...).")
        ] = None,
        parent_id: Annotated[FolderId | None, Field(description="The folder for the copy (default: the same).")] = None,
        convert_to: Annotated[
            ConvertTo | None,
            Field(description="Convert an Office file or PDF into a Google Doc, Sheet or Slides while copying."),
        ] = None,
    ) -> DriveFile:
        """Copy a Drive file, optionally renamed, into another folder, or converted to a Google format."""
        body: dict[str, Any] = {}
        if name:
            body["name"] = name
        if parent_id:
            body["parents"] = [parent_id]
        if convert_to is not None:
            body["mimeType"] = MIME_TYPES[convert_to]
        params = {"fields": FILE_FIELDS, "supportsAllDrives": "true"}
        response = await ctx.http.post(url(ctx, "drive", f"files/{segment(file_id)}/copy"), json=body, params=params)
        return DriveFile.from_api(response.json_object())

    @tool(read_only=False, group="drive", destructive=False, idempotent=True, scopes=DRIVE_WRITE)
    async def update_file(
        self,
        ctx: ToolContext[GoogleConfig],
        file_id: FileId,
        name: Annotated[str | None, Field(min_length=1, max_length=1000, description="A new name.")] = None,
        description: Annotated[str | None, Field(max_length=4000, description="A new description.")] = None,
        folder_id: Annotated[
            FolderId | None,
            Field(description="Move it into this folder (or shared drive), out of its current folders."),
        ] = None,
    ) -> DriveFile:
        """Rename a Drive file or folder, change its description, or move it to another folder."""
        if name is None and description is None and folder_id is None:
            raise InvalidArguments(
                "give at least one of name, description or folder_id", [("name", "nothing to change")]
            )
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        params: dict[str, Any] = {"fields": FILE_FIELDS, "supportsAllDrives": "true"}
        if folder_id is not None:
            current = await get_metadata(ctx, file_id, "id,parents")
            old = [p for p in current.get("parents") or () if isinstance(p, str) and p != folder_id]
            params.update(addParents=folder_id, removeParents=",".join(old) or None)
        response = await ctx.http.patch(url(ctx, "drive", f"files/{segment(file_id)}"), json=body, params=params)
        return DriveFile.from_api(response.json_object())
