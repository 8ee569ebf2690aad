"""The consent page: a signed-in member allows (or denies) an MCP client access to one MCP endpoint.

`GET /oauth/consent?request=<sealed>` (where `/authorize` sends the browser) needs a
signed-in user (otherwise the sign-in page, coming back here) who is a member of the
endpoint's tenant, any role (otherwise a refusal page: the client gets nothing). It shows
who asks (the client's name, its website's host, for a metadata-document client the
document's URL, where the answer goes), for which tenant and endpoint, and what the client
will be able to do; Allow and Deny post back here with the CSRF token.

Allow issues a single-use authorization code (its digest stored, valid
`AuthorizationConfig.code_lifetime` seconds) bound to the client, the user, the tenant, the
resource, the scopes, the PKCE challenge and the redirect URI, and redirects to the client
with `code`, `state` and `iss`. Deny redirects with `error=access_denied`. Everything is
checked again on the POST (the membership may have ended, the client may be gone).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mcp.server.auth.provider import construct_redirect_uri
from mcp.shared.auth import InvalidRedirectUriError
from pydantic import AnyUrl, ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sagemcp.errors import StoreError
from sagemcp.platform import ConnectorConfig, Tenant

from ..api.errors import ApiError
from ..web.render import allow_form_redirect, render
from ..web.session import SignedInUser, check_csrf, current_user, signin_redirect
from .clients import McpClient, display_host
from .pending import MAX_SEALED_CHARS, PendingConsent, unseal
from .provider import CONSENT_PATH, AuthorizationProvider

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["ConsentPage"]

logger = logging.getLogger("sagemcp_server.authz")

_LOOPBACK = frozenset({"127.0.0.1", "::1", "[::1]", "localhost"})


class _Refusal(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(frozen=True)
class _Checked:
    pending: PendingConsent
    user: SignedInUser
    client: McpClient
    tenant: Tenant
    role: str
    connectors: list[ConnectorConfig]


def _redirect(url: str) -> Response:
    return RedirectResponse(
        url, status_code=303, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


def _duration(seconds: float) -> str:
    if seconds >= 86_400 and seconds % 86_400 == 0:
        days = int(seconds // 86_400)
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class ConsentPage:
    def __init__(self, services: Services, provider: AuthorizationProvider) -> None:
        self.services = services
        self.provider = provider

    async def handle(self, request: Request) -> Response:
        try:
            if request.method == "POST":
                return await self._decide(request)
            return await self._show(request)
        except _Refusal as refusal:
            return self._message(request, refusal.status, refusal.title, refusal.message)
        except ApiError as exc:
            return self._message(request, exc.status, "Please try again", exc.message)
        except StoreError:
            return self._message(
                request, 503, "Temporarily unavailable", "The server cannot reach its database; try again in a minute."
            )

    @staticmethod
    def _message(request: Request, status: int, title: str, message: str) -> Response:
        return render(
            request, "message.html", status, title=title, message=message, error=True, link=None, link_text=None
        )

    async def _check(self, request: Request, sealed: str | None, user: SignedInUser) -> _Checked:
        pending = unseal(self.services.box, sealed)
        if pending is None:
            raise _Refusal(
                400,
                "This request cannot be used",
                "The authorization request is incomplete, altered or expired. Start connecting again from your MCP "
                "client.",
            )
        client = await self.provider.get_client(pending.client_id)
        if client is None:
            raise _Refusal(
                400,
                "Unknown application",
                "The application that asked for access is not known to this server (any more). Start connecting "
                "again from your MCP client.",
            )
        try:
            client.validate_redirect_uri(AnyUrl(pending.redirect_uri))
        except (InvalidRedirectUriError, ValidationError):
            raise _Refusal(
                400,
                "This request cannot be used",
                "The application no longer lists the address this request would return to. Start connecting again.",
            ) from None
        tenant = await self.services.store.get_tenant_by_id(pending.tenant_id)
        role = await self.services.people.role_of(pending.tenant_id, user.id) if tenant is not None else None
        if tenant is None or role is None:
            raise _Refusal(
                403,
                "Not a member",
                f"You are signed in as {user.email}, who is not a member of the organisation this application asks "
                "for. Sign in with another account, or ask an owner or admin of that organisation to invite you.",
            )
        if not tenant.active:
            raise _Refusal(
                403, "Tenant inactive", f"{tenant.name or tenant.slug} is inactive; nobody can connect to it."
            )
        connectors = await self.services.store.list_connectors(tenant.id)
        if pending.connector is not None:
            connectors = [c for c in connectors if pending.connector in (c.id, c.name)]
            if not connectors:
                raise _Refusal(
                    400, "Unknown connector", f"{tenant.name or tenant.slug} has no connector {pending.connector!r}."
                )
        else:
            connectors = [c for c in connectors if c.enabled]
        return _Checked(pending, user, client, tenant, role, connectors)

    def _details(self, checked: _Checked) -> dict[str, Any]:
        client, pending, config = checked.client, checked.pending, self.provider.config
        kind = getattr(client, "kind", "registered")
        redirect = AnyUrl(pending.redirect_uri)
        host = (redirect.host or "").lower()
        if redirect.scheme == "http" and host in _LOOPBACK:
            returns_to = f"an application on your computer ({host})"
        elif redirect.scheme in ("http", "https"):
            returns_to = host
        else:
            returns_to = f"the application that opened this page ({redirect.scheme}:)"
        return {
            "client_name": (client.client_name or display_host(client.client_id) or client.client_id)[:200],
            "client_host": display_host(client.client_uri),
            "document_url": client.client_id if kind == "document" else None,
            "self_registered": kind == "registered",
            "returns_to": returns_to,
            "tenant_name": checked.tenant.name or checked.tenant.slug,
            "tenant_slug": checked.tenant.slug,
            "role": checked.role,
            "connector": checked.connectors[0] if pending.connector is not None else None,
            "connectors": checked.connectors,
            "per_user": [c.name for c in checked.connectors if c.connection_mode == "per_user"],
            "resource": pending.resource,
            "access_lifetime": _duration(config.access_lifetime),
            "refresh_lifetime": _duration(config.refresh_lifetime),
        }

    async def _show(self, request: Request) -> Response:
        sealed = request.query_params.get("request")
        if sealed is not None and len(sealed) > MAX_SEALED_CHARS:
            raise _Refusal(400, "This request cannot be used", "The authorization request is too large.")
        user = await current_user(request)
        if user is None:
            return signin_redirect(request)
        checked = await self._check(request, sealed, user)
        page = render(
            request,
            "consent.html",
            title="Allow access",
            request_token=sealed,
            user=user,
            action=CONSENT_PATH,
            **self._details(checked),
        )
        # Allow and Deny are answered with a redirect to the client's (checked) redirect URI.
        return allow_form_redirect(page, checked.pending.redirect_uri)

    async def _decide(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        sealed = form.get("request")
        sealed = sealed if isinstance(sealed, str) else None
        user = await current_user(request)
        if user is None:
            if sealed and len(sealed) <= MAX_SEALED_CHARS:
                return RedirectResponse(
                    "/signin?next=" + quote(f"{CONSENT_PATH}?request={quote(sealed, safe='')}", safe="/"),
                    status_code=303,
                )
            return signin_redirect(request)
        token = form.get("csrf_token")
        check_csrf(request, token if isinstance(token, str) else None)
        checked = await self._check(request, sealed, user)
        pending, issuer = checked.pending, self.provider.config.issuer
        decision = form.get("decision")
        if decision == "allow":
            code = await self.provider.store.create_code(
                client_id=pending.client_id,
                user_id=user.id,
                tenant_id=pending.tenant_id,
                resource=pending.resource,
                scopes=pending.scopes,
                code_challenge=pending.code_challenge,
                redirect_uri=pending.redirect_uri,
                redirect_uri_provided_explicitly=pending.redirect_uri_provided_explicitly,
                lifetime=self.provider.config.code_lifetime,
            )
            logger.info(
                "OAuth access allowed",
                extra={"client_id": pending.client_id, "tenant": checked.tenant.slug, "user_id": user.id},
            )
            return _redirect(construct_redirect_uri(pending.redirect_uri, code=code, state=pending.state, iss=issuer))
        if decision == "deny":
            logger.info("OAuth access denied", extra={"client_id": pending.client_id, "tenant": checked.tenant.slug})
            return _redirect(
                construct_redirect_uri(
                    pending.redirect_uri,
                    error="access_denied",
                    error_description="The user denied access",
                    state=pending.state,
                    iss=issuer,
                )
            )
        raise _Refusal(400, "Something is wrong with the form", "Choose Allow or Deny.")
