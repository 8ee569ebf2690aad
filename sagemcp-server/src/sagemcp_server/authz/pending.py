"""An authorization request waiting for the person's consent, carried in the consent page's URL.

`/authorize` validates the request (client, redirect URI, PKCE challenge, scopes, the
`resource`) and sends the browser to `/oauth/consent?request=<sealed>`: the request sealed
with the server's `SecretBox` (AES-GCM, so it is both secret and tamper-proof, bound to
this purpose by its context) with an expiry inside. Nothing is stored until the person
allows it; any replica can read it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from sagemcp.errors import CryptoError
from sagemcp.platform import SecretBox

__all__ = ["MAX_SEALED_CHARS", "PendingConsent", "seal", "unseal"]

MAX_SEALED_CHARS = 8192
_CONTEXT = "mcp-authorization-request"


@dataclass(frozen=True)
class PendingConsent:
    client_id: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    state: str | None
    scopes: list[str]
    code_challenge: str
    resource: str
    """The canonical resource URL of the MCP endpoint the token will be for."""
    tenant_id: str
    connector: str | None
    """The connector of a per-connector endpoint (as written in its URL), None for the tenant-wide one."""
    expires_at: float


def seal(box: SecretBox, pending: PendingConsent) -> str:
    return box.encrypt(json.dumps(asdict(pending), separators=(",", ":")), context=_CONTEXT)


def unseal(box: SecretBox, sealed: str | None) -> PendingConsent | None:
    """The request sealed in `sealed`, or None when it is missing, altered, not ours or expired."""
    if not sealed or len(sealed) > MAX_SEALED_CHARS:
        return None
    try:
        data = json.loads(box.decrypt(sealed, context=_CONTEXT))
        pending = PendingConsent(**data)
    except (CryptoError, ValueError, TypeError):
        return None
    if pending.expires_at < time.time():
        return None
    return pending
