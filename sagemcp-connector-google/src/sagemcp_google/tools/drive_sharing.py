"""`drive_sharing` tools: who can reach a file, sharing it and taking access away.

Off by default: sharing reaches people outside the connection. Unsharing removes access, so it is
marked destructive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._scopes import DRIVE_READ, DRIVE_WRITE
from .._services import segment
from ..models import ActionResult, Permission, PermissionList
from ._common import FileId, next_page, page_token, url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["DriveSharingTools"]

Role = Annotated[
    Literal["reader", "commenter", "writer", "fileOrganizer", "organizer"],
    Field(description="What the grantee may do; fileOrganizer and organizer exist on shared drives only."),
]
PermissionId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A permission id from google_list_permissions.",
    ),
]
_FIELDS = "id,type,role,emailAddress,domain,displayName,expirationTime,permissionDetails(inherited)"


class DriveSharingTools:
    """The `drive_sharing` group."""

    @tool(read_only=True, group="drive_sharing", scopes=DRIVE_READ)
    async def list_permissions(
        self,
        ctx: ToolContext[GoogleConfig],
        file_id: FileId,
        limit: Annotated[int, Limit(maximum=100, what="Permissions")] = 50,
        cursor: Cursor = None,
    ) -> PermissionList:
        """List who can reach a Drive file or folder: permission id, role, grantee."""
        bind = {"file": file_id}
        params = {
            "pageSize": limit,
            "pageToken": page_token(cursor, bind),
            "fields": f"nextPageToken,permissions({_FIELDS})",
            "supportsAllDrives": "true",
        }
        response = await ctx.http.get(url(ctx, "drive", f"files/{segment(file_id)}/permissions"), params=params)
        data = response.json_object()
        return PermissionList(
            file_id=file_id,
            items=[Permission.from_api(p) for p in response.json_list("permissions", of=dict)],
            next_cursor=next_page(data, bind),
        )

    @tool(read_only=False, group="drive_sharing", destructive=False, idempotent=False, scopes=DRIVE_WRITE)
    async def share_file(
        self,
        ctx: ToolContext[GoogleConfig],
        file_id: FileId,
        role: Role,
        email: Annotated[
            str | None,
            Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$", description="The person or group to share with."),
        ] = None,
        domain: Annotated[
            str | None, Field(max_length=253, pattern=r"^[A-Za-z0-9.-]+$", description="Share with a whole domain.")
        ] = None,
        anyone_with_link: Annotated[bool, Field(description="Share with anyone who has the link.")] = False,
        group: Annotated[bool, Field(description="`email` is a Google Group.")] = False,
        notify: Annotated[bool, Field(description="Email the person or group about the share.")] = True,
        message: Annotated[str | None, Field(max_length=2000, description="Text for the notification email.")] = None,
    ) -> Permission:
        """Share a Drive file or folder with a person or group (email), a domain, or anyone with the link.

        Returns the permission id that google_unshare_file takes.
        """
        chosen = [email is not None, domain is not None, anyone_with_link]
        if sum(chosen) != 1:
            raise InvalidArguments(
                "give exactly one of email, domain or anyone_with_link",
                [("email", "exactly one of email, domain, anyone_with_link")],
            )
        body: dict[str, Any] = {"role": role}
        params: dict[str, Any] = {"fields": _FIELDS, "supportsAllDrives": "true"}
        if email is not None:
            body.update(type="group" if group else "user", emailAddress=email)
            params["sendNotificationEmail"] = "true" if notify else "false"
            if notify and message:
                params["emailMessage"] = message
        elif domain is not None:
            body.update(type="domain", domain=domain)
        else:
            body.update(type="anyone", allowFileDiscovery=False)
        response = await ctx.http.post(
            url(ctx, "drive", f"files/{segment(file_id)}/permissions"), json=body, params=params
        )
        return Permission.from_api(response.json_object())

    @tool(read_only=False, group="drive_sharing", destructive=True, idempotent=True, scopes=DRIVE_WRITE)
    async def update_permission(
        self, ctx: ToolContext[GoogleConfig], file_id: FileId, permission_id: PermissionId, role: Role
    ) -> Permission:
        """Change the role of an existing permission (say, from writer to reader)."""
        params = {"fields": _FIELDS, "supportsAllDrives": "true"}
        response = await ctx.http.patch(
            url(ctx, "drive", f"files/{segment(file_id)}/permissions/{segment(permission_id)}"),
            json={"role": role},
            params=params,
        )
        return Permission.from_api(response.json_object())

    @tool(read_only=False, group="drive_sharing", destructive=True, idempotent=True, scopes=DRIVE_WRITE)
    async def unshare_file(
        self, ctx: ToolContext[GoogleConfig], file_id: FileId, permission_id: PermissionId
    ) -> ActionResult:
        """Take away one permission of a file or folder (find its id with google_list_permissions)."""
        await ctx.http.delete(
            url(ctx, "drive", f"files/{segment(file_id)}/permissions/{segment(permission_id)}"),
            params={"supportsAllDrives": "true"},
            idempotent=True,
        )
        return ActionResult(done=f"Removed permission `{permission_id}` from the file.", id=file_id)
