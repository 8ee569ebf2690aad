"""`ThrowawayConnector`: made with `python -m sagemcp.scaffold`, then given the harder cases of the kit.

Authentication (a tenant's credential names its scheme by its `kind`):

- `client_credentials`: Server-to-Server OAuth as Zoom has it: the app's client id and secret (HTTP
  Basic) and the credential's `account_id` are exchanged with `grant_type=account_credentials` for an
  hour-long token. The account id also names the account's API host,
  `https://{account_id}.api.throwaway.example`, which the tools call.
- `jwt_bearer`: a service account as Google has it: an RS256 JWT with `iss`, `sub` (the user to act as),
  `aud` = `TOKEN_URL` and `scope` is exchanged for a token; the tools call `DEFAULT_API_URL`.

Attachments are kept on two more hosts, `FILES_ORIGIN` and `MEDIA_ORIGIN`, which receive the
credential (`extra_origins`); a signed download link, on any other host, is fetched without it.
Every host the credential may reach is known when it is stored, so a store can bind it to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from sagemcp import (
    ClientCredentials,
    ClientCredentialsFields,
    Connector,
    ConnectorInfo,
    ConnectorSettings,
    Credential,
    CredentialFields,
    JwtBearer,
)
from sagemcp.errors import ReconnectRequired

from . import __version__
from .tools import AttachmentsTools, ItemsTools

__all__ = [
    "ACCOUNT_ID_PATTERN",
    "DEFAULT_API_URL",
    "DEFAULT_GROUPS",
    "FILES_ORIGIN",
    "MEDIA_ORIGIN",
    "SCOPES",
    "TOKEN_URL",
    "AccountCredentials",
    "AccountFields",
    "ThrowawayConfig",
    "ThrowawayConnector",
]

DEFAULT_API_URL = "https://api.throwaway.example"
"""The API host of service accounts."""

DEFAULT_GROUPS = ("items",)
"""Groups enabled when a tenant's policy names none."""

TOKEN_URL = "https://auth.throwaway.example/oauth/token"
"""The token endpoint of both grants (and the `aud` of the service account's JWT)."""

FILES_ORIGIN = "https://files.throwaway.example"
MEDIA_ORIGIN = "https://media.throwaway.example"
SCOPES = ("items:read",)
ACCOUNT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
"""An account id is one label of a host name."""
_ACCOUNT_ID_RE = re.compile(ACCOUNT_ID_PATTERN)


# --8<-- [start:fields]
class AccountFields(ClientCredentialsFields):
    """What an operator stores for client credentials: the app's id and secret, and the account."""

    account_id: str = Field(
        pattern=ACCOUNT_ID_PATTERN,
        description="The account's id (lowercase letters, digits and -); it also names the account's API host.",
    )


@dataclass(frozen=True)
class AccountCredentials(ClientCredentials):
    """Client credentials whose account id is checked when stored, since it becomes part of a host name."""

    def fields_model(self) -> type[CredentialFields]:
        return AccountFields


# --8<-- [end:fields]


class ThrowawayConfig(ConnectorSettings):
    """Per-tenant configuration of the Throwaway connector: none; the credential decides the host."""


class ThrowawayConnector(AttachmentsTools, ItemsTools, Connector):
    """Throwaway: items and their attachments, read-only."""

    info = ConnectorInfo(
        id="throwaway",
        title="Throwaway",
        description="Items in Throwaway and their attachments: read one, or list them a page at a time.",
        homepage="https://api.throwaway.example",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    # --8<-- [start:schemes]
    auth = (
        AccountCredentials(
            description="Server to server: an app's client id and secret and the account id, exchanged for tokens.",
            token_url=TOKEN_URL,
            grant_type="account_credentials",
            token_params=("account_id",),
        ),
        JwtBearer(
            description="A service account: a JWT signed with its private key, exchanged for tokens.",
            token_url=TOKEN_URL,
            scopes=SCOPES,
        ),
    )
    # --8<-- [end:schemes]
    Config = ThrowawayConfig
    base_url = DEFAULT_API_URL
    # --8<-- [start:origins]
    extra_origins = (FILES_ORIGIN, MEDIA_ORIGIN)

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """A client-credentials account's own host; `DEFAULT_API_URL` without an account (service accounts)."""
        account = credential.extra.get("account_id") if credential is not None else None
        if account is None:
            return DEFAULT_API_URL
        if not isinstance(account, str) or not _ACCOUNT_ID_RE.match(account):
            raise ReconnectRequired(
                "the Throwaway credential of this tenant has an account_id that cannot name a host: "
                "store its fields again"
            )
        return f"https://{account}.api.throwaway.example"

    # --8<-- [end:origins]
