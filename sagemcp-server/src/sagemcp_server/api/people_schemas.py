"""Request and response bodies of the people API: users, members, invitations, sign-in providers, `/me`.

Like `schemas`, request models refuse unknown fields; passwords and client secrets appear
only in requests (write-only), and invitation tokens only in the answer that creates one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "OIDC_NAME_PATTERN",
    "USER_ID_PATTERN",
    "InvitationCreate",
    "InvitationCreated",
    "InvitationList",
    "InvitationOut",
    "MeOut",
    "MemberAdd",
    "MemberList",
    "MemberOut",
    "MemberUpdate",
    "MembershipOut",
    "OidcProviderCreate",
    "OidcProviderList",
    "OidcProviderOut",
    "OidcProviderUpdate",
    "UserCreate",
    "UserDetail",
    "UserList",
    "UserOut",
    "UserUpdate",
]

USER_ID_PATTERN = r"^[0-9a-f]{32}$"
OIDC_NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"

Email = Annotated[str, Field(min_length=3, max_length=320, examples=["ada@example.com"])]
Password = Annotated[
    SecretStr, Field(min_length=12, max_length=1024, description="Write-only; at least 12 characters.")
]
Role = Literal["owner", "admin", "member"]
Name = Annotated[str, Field(max_length=200)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- users ----------------------------------------------------------------------------------


class UserCreate(_Request):
    email: Email
    name: Name = ""
    password: Password | None = Field(
        default=None, description="Write-only. Omit for a person who signs in only through an OpenID Connect provider."
    )
    platform_admin: bool = False
    email_verified: bool = Field(
        default=True,
        description="Whether the admin vouches for the address: OpenID Connect sign-in through a platform provider "
        "links a verified e-mail claim only to a user whose address is verified.",
    )


class UserUpdate(_Request):
    email: Email | None = None
    name: Name | None = None
    password: Password | None = Field(default=None, description="Write-only. Signs the user out everywhere.")
    platform_admin: bool | None = None
    active: bool | None = Field(default=None, description="false signs the user out everywhere and refuses sign-in.")
    email_verified: bool | None = None
    unlock: bool = Field(default=False, description="Clear a lockout after too many wrong passwords.")


class UserOut(_Response):
    id: str
    email: str
    name: str
    email_verified: bool
    platform_admin: bool
    active: bool
    has_password: bool
    locked: bool = Field(description="Password sign-in is refused for a while after too many wrong passwords.")
    created_at: datetime
    updated_at: datetime


class MembershipOut(_Response):
    tenant: str = Field(description="The tenant's slug.")
    tenant_name: str
    role: Role


class UserDetail(UserOut):
    memberships: list[MembershipOut]
    identities: list[str] = Field(description="Issuers of the OpenID Connect accounts linked to this user.")


class UserList(_Response):
    items: list[UserOut]
    next_cursor: str | None


# -- members --------------------------------------------------------------------------------


class MemberAdd(_Request):
    email: Email = Field(description="An existing user's e-mail; invite people who have no account yet.")
    role: Role = "member"


class MemberUpdate(_Request):
    role: Role


class MemberOut(_Response):
    user_id: str
    email: str
    name: str
    role: Role
    active: bool
    created_at: datetime
    updated_at: datetime


class MemberList(_Response):
    items: list[MemberOut]


# -- invitations ----------------------------------------------------------------------------


class InvitationCreate(_Request):
    role: Role = "member"
    email: Email | None = Field(default=None, description="When set, only the user with this e-mail may accept.")
    expires_in: int | None = Field(
        default=None,
        ge=60,
        description="Seconds the link stays valid; default and maximum SAGEMCP_INVITATION_TTL (7 days).",
    )


class InvitationOut(_Response):
    id: str
    role: Role
    email: str | None
    status: Literal["pending", "accepted", "revoked", "expired"]
    created_by: str
    expires_at: datetime
    accepted_by: str | None
    accepted_at: datetime | None
    created_at: datetime


class InvitationCreated(InvitationOut):
    url: str = Field(description="The one-time invitation link; shown only in this answer.")


class InvitationList(_Response):
    items: list[InvitationOut]


# -- OpenID Connect providers ---------------------------------------------------------------


class OidcProviderCreate(_Request):
    name: str = Field(
        pattern=OIDC_NAME_PATTERN,
        max_length=63,
        description="Unique on the platform; part of the redirect URI /signin/oidc/{name}/callback.",
        examples=["okta"],
    )
    display_name: Name = Field(default="", description="The button label on the sign-in page.")
    issuer: str = Field(
        min_length=8, max_length=512, description="The issuer URL; its /.well-known/openid-configuration is used."
    )
    client_id: str = Field(min_length=1, max_length=512)
    client_secret: SecretStr | None = Field(
        default=None, max_length=4096, description="Write-only. Omit for a public client (PKCE only)."
    )
    scopes: list[Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]] = Field(
        default_factory=lambda: ["openid", "email", "profile"], max_length=20
    )
    match_by: Literal["email", "subject"] = Field(
        default="email",
        description="`email`: a verified e-mail claim links the user with that e-mail; `subject`: only an "
        "account linked before (by an invitation) signs in.",
    )


class OidcProviderUpdate(_Request):
    display_name: Name | None = None
    issuer: str | None = Field(default=None, min_length=8, max_length=512)
    client_id: str | None = Field(default=None, min_length=1, max_length=512)
    client_secret: SecretStr | None = Field(
        default=None, max_length=4096, description="Write-only. Omit to keep the stored secret; null to remove it."
    )
    scopes: list[Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]] | None = Field(
        default=None, max_length=20
    )
    match_by: Literal["email", "subject"] | None = None


class OidcProviderOut(_Response):
    name: str
    display_name: str
    tenant: str | None = Field(description="The tenant's slug, or null for a platform-wide provider.")
    issuer: str
    client_id: str
    has_client_secret: bool
    scopes: list[str]
    match_by: Literal["email", "subject"]
    redirect_uri: str = Field(description="Register this redirect URI with the provider.")
    created_at: datetime
    updated_at: datetime


class OidcProviderList(_Response):
    items: list[OidcProviderOut]


# -- me -------------------------------------------------------------------------------------


class MeOut(_Response):
    id: str
    email: str
    name: str
    platform_admin: bool
    memberships: list[MembershipOut]
    csrf_token: str = Field(description="Send it as X-CSRF-Token with requests that change something.")
