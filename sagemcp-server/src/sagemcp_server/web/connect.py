"""The connect page: a signed-in member connects their own account to a `per_user` connector.

`GET /connect/{tenant}/{connector}` shows what will be connected (the provider, the tenant,
the connector, the member's current connection if any) with a Connect button, and a
Disconnect button once connected. It is the link a member gets from a tool call that needs
their account (`McpSettings.connect_url`). Only a member of the tenant sees it; anyone else
gets the same "not found" as for a tenant or connector that does not exist.

`POST /connect/{tenant}/{connector}` (CSRF-checked) starts the provider's authorization-code
flow with the existing machinery (`OAuthFlows`, `SqlStore.save_oauth_state`): the state is
single-use, expires, carries PKCE, is bound to the member (`oauth_states.user_id`), the tenant
and the connector, and to this browser by a cookie set here (the member is redirected to the
provider at once, so there is no single-use link to open). The provider redirects to the
usual `GET /api/v1/oauth/callback/{provider}`, which hands member authorizations to
`finish_member_connection`: it accepts the callback only from the same signed-in member,
stores the credential as theirs (encrypted, bound to the connectors' origins) and shows a page
saying the account is connected and the tool call can be retried.

`POST /connect/{tenant}/{connector}/disconnect` (CSRF-checked) revokes the member's token at the
provider where it can and deletes it: the form counterpart of `DELETE /api/v1/me/connections/...`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sagemcp import UNREACHABLE, Connector, OAuth2
from sagemcp.errors import OAuthError, OAuthStateError, StoreError, TokenEndpointError
from sagemcp.platform import ConnectorConfig, PendingAuthorization, Tenant, base_provider

from ..api.credentials import bind_credential, credential_status, revoke_upstream
from ..api.errors import ApiError
from ..db.store import oauth_state_hash
from ..oauth_routes import COOKIE_PREFIX
from ..services import Services
from .render import allow_form_redirect, render
from .session import SignedInUser, check_csrf, current_user, signin_redirect

__all__ = ["connect_routes", "disconnect_member", "finish_member_connection"]

logger = logging.getLogger("sagemcp_server.connect")

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PROVIDER_ERRORS = {
    "access_denied": "you declined the request",
    "invalid_scope": "the provider refused the requested permissions",
    "server_error": "the provider failed",
    "temporarily_unavailable": "the provider is busy or down for now",
    "login_required": "you must sign in at the provider",
    "consent_required": "you must consent at the provider",
}
"""Provider error codes the result page names; the provider's free text is never shown."""


@dataclass(frozen=True)
class _Target:
    """A `per_user` connector of a tenant the signed-in member belongs to, ready to connect."""

    tenant: Tenant
    config: ConnectorConfig
    cls: type[Connector]
    scheme: OAuth2
    provider: str


class _Refusal(Exception):
    """Why the page cannot go on: an HTTP status and what to tell the member."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _result(request: Request, status: int, title: str, message: str, back: str | None = None) -> Response:
    return render(request, "connect_result.html", status, title=title, heading=title, message=message, back=back)


def _not_found() -> _Refusal:
    return _Refusal(
        404, "Not found", "There is no such connector, or you are not a member of its tenant. Check the link."
    )


async def _target(services: Services, user: SignedInUser, slug: str, name: str) -> _Target:
    """The connector behind a connect link, if the member may connect it; `_Refusal` saying why not."""
    if not _NAME.match(slug) or not _NAME.match(name):
        raise _not_found()
    tenant = await services.store.get_tenant(slug)
    if tenant is None or await services.people.role_of(tenant.id, user.id) is None:
        raise _not_found()
    config = await services.store.get_connector(tenant.id, name)
    if config is None or config.name != name:
        raise _not_found()
    if config.connector_type not in services.registry:
        raise _Refusal(409, "Not available", f"Connector {name!r} is not installed on this server.")
    cls = services.registry.get(config.connector_type)
    title = cls.info.title
    if config.connection_mode != "per_user":
        raise _Refusal(
            409,
            "Nothing to connect",
            f"Connector {name!r} of {tenant.name or tenant.slug} uses the tenant's shared {title} account, "
            "which an administrator connects: your calls use it already.",
        )
    if not config.enabled:
        raise _Refusal(409, "Not available", f"Connector {name!r} is disabled; ask an administrator.")
    scheme = cls.oauth2()
    if scheme is None:
        raise _Refusal(409, "Not available", f"The {title} connector has no account to connect with OAuth.")
    return _Target(tenant, config, cls, scheme, config.provider or cls.provider_id())


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def connect_page(request: Request) -> Response:
    """The page behind a connect link: what will be connected, and the button that starts it."""
    user = await current_user(request)
    if user is None:
        return signin_redirect(request)
    services = _services(request)
    slug, name = str(request.path_params["tenant"]), str(request.path_params["connector"])
    try:
        target = await _target(services, user, slug, name)
        record = await services.store.get_credential_record(target.tenant.id, target.provider, user.id)
    except _Refusal as refusal:
        return _result(request, refusal.status, refusal.title, refusal.message)
    except StoreError:
        return _result(request, 503, "Try again", "The server cannot reach its database right now.")
    status = credential_status(record.item) if record is not None else None
    title = target.cls.info.title
    page = render(
        request,
        "connect.html",
        title=f"Connect {title}",
        provider_title=title,
        tenant_name=target.tenant.name or target.tenant.slug,
        connector=target.config.name,
        account=record.item.account if record is not None else None,
        status=status,
        connected_at=_when(record.created_at) if record is not None else None,
        scopes=target.cls.oauth_scopes(target.config.tool_policy),
        action=f"/connect/{target.tenant.slug}/{target.config.name}",
        csrf_token=user.csrf_token,
        signed_in=user,
    )
    return allow_form_redirect(page, target.scheme.authorize_url)


async def start_connection(request: Request) -> Response:
    """Start the provider's authorization for the signed-in member, bound to them and to this browser."""
    user = await current_user(request)
    if user is None:
        return signin_redirect(request)
    services = _services(request)
    slug, name = str(request.path_params["tenant"]), str(request.path_params["connector"])
    form = await request.form()
    try:
        check_csrf(request, _field(form.get("csrf_token")))
        target = await _target(services, user, slug, name)
        app = await services.store.get_oauth_app(target.tenant.id, base_provider(target.provider))
        if app is None:
            raise _Refusal(
                409,
                "Not ready yet",
                f"An administrator must configure the tenant's {target.cls.info.title} OAuth app before members "
                "can connect their accounts.",
            )
        linked: dict[str, list[str]] = {}
        for linked_name, wanted in target.cls.linked_oauth_scopes(target.config.tool_policy).items():
            if any(token.name == linked_name for token in target.scheme.linked_tokens):
                linked[linked_name] = list(wanted)
        url, pending = services.flows.begin(
            target.scheme,
            app,
            tenant_id=target.tenant.id,
            provider=target.provider,
            redirect_uri=services.redirect_uri(target.provider),
            scopes=target.cls.oauth_scopes(target.config.tool_policy),
            connector_id=target.config.id,
            linked_scopes=linked,
            user_id=user.id,
        )
        browser = secrets.token_urlsafe(32)
        await services.store.save_oauth_state(pending, browser_hash=oauth_state_hash(browser))
    except ApiError as exc:
        return _result(request, exc.status, "Try again", exc.message, back=f"/connect/{slug}/{name}")
    except _Refusal as refusal:
        return _result(request, refusal.status, refusal.title, refusal.message)
    except StoreError:
        return _result(request, 503, "Try again", "The server cannot reach its database right now.")
    logger.info(
        "member connection started",
        extra={"tenant": target.tenant.slug, "provider": target.provider, "user_id": user.id},
    )
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    _bind_browser(response, services, pending, browser)
    return response


def _field(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _bind_browser(response: Response, services: Services, pending: PendingAuthorization, browser: str) -> None:
    """The cookie the callback must come back with (`oauth_routes` checks it), limited to the callback's path."""
    response.set_cookie(
        COOKIE_PREFIX + oauth_state_hash(pending.state)[:16],
        browser,
        max_age=max(1, int(pending.expires_at - time.time())) + 60,
        path=urlsplit(services.redirect_uri(pending.provider)).path,
        secure=services.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


async def disconnect_member(services: Services, tenant: Tenant, provider: str, user_id: str) -> bool:
    """Revoke a member's own credential for `provider` at the provider (best effort) and delete it, with its
    linked credentials (`slack:user`); False when the member had none."""
    found = await services.store.list_user_credentials(tenant.id, user_id)
    doomed = [
        r.item
        for r in found
        if r.item.provider == provider or (":" not in provider and r.item.provider.startswith(f"{provider}:"))
    ]
    if not any(c.provider == provider for c in doomed):
        return False
    for credential in doomed:
        await revoke_upstream(services, tenant, credential)
        await services.store.delete_credential(tenant.id, credential.provider, user_id)
        services.credential_changed(tenant.slug, tenant.id, credential.provider, user_id)
    logger.info("member connection removed", extra={"tenant": tenant.slug, "provider": provider, "user_id": user_id})
    return True


async def disconnect_page(request: Request) -> Response:
    """The Disconnect button of the connect page."""
    user = await current_user(request)
    if user is None:
        return signin_redirect(request)
    services = _services(request)
    slug, name = str(request.path_params["tenant"]), str(request.path_params["connector"])
    form = await request.form()
    back = f"/connect/{slug}/{name}"
    try:
        check_csrf(request, _field(form.get("csrf_token")))
        target = await _target(services, user, slug, name)
        removed = await disconnect_member(services, target.tenant, target.provider, user.id)
    except ApiError as exc:
        return _result(request, exc.status, "Try again", exc.message, back=back)
    except _Refusal as refusal:
        return _result(request, refusal.status, refusal.title, refusal.message)
    except StoreError:
        return _result(request, 503, "Try again", "The server cannot reach its database right now.")
    title = target.cls.info.title
    if not removed:
        return _result(request, 404, "Not connected", f"You have no {title} account connected here.", back=back)
    return _result(
        request,
        200,
        "Disconnected",
        f"Your {title} account is disconnected from {target.tenant.name or target.tenant.slug}. Tools of "
        f"connector {target.config.name!r} will ask you to connect again.",
        back=back,
    )


async def finish_member_connection(
    request: Request, services: Services, pending: PendingAuthorization, provider: str, state: str
) -> Response:
    """The callback of a member's own authorization (the state is already taken and bound to this browser):
    exchange the code and store the credential as the member's."""
    assert pending.user_id is not None
    user = await current_user(request)
    if user is None or user.id != pending.user_id:
        logger.warning("member OAuth callback without the member's session refused", extra={"provider": provider})
        return _result(
            request,
            403,
            "Connection failed",
            "This authorization was started by another signed-in person, or your session ended: sign in and "
            "connect again from the connect page.",
        )
    error = request.query_params.get("error")
    if error:
        code = error if error in _PROVIDER_ERRORS else "error"
        reason = _PROVIDER_ERRORS.get(code, "the provider gave no known reason")
        logger.info("provider refused a member authorization", extra={"provider": provider, "error": code})
        return _result(request, 400, "Not connected", f"{provider} did not connect your account ({reason}).")
    try:
        tenant = await services.store.get_tenant_by_id(pending.tenant_id)
        config = (
            await services.store.get_connector(pending.tenant_id, pending.connector_id)
            if pending.connector_id is not None
            else None
        )
        if tenant is None or config is None or await services.people.role_of(tenant.id, user.id) is None:
            return _result(
                request,
                400,
                "Connection failed",
                "The tenant or connector was removed meanwhile, or you are no longer a member of the tenant.",
            )
        back = f"/connect/{tenant.slug}/{config.name}"
        if config.connection_mode != "per_user" or config.connector_type not in services.registry:
            return _result(
                request, 409, "Connection failed", f"Connector {config.name!r} no longer takes members' own accounts."
            )
        cls = services.registry.get(config.connector_type)
        scheme = cls.oauth2()
        app = await services.store.get_oauth_app(tenant.id, base_provider(provider))
        if scheme is None or app is None:
            return _result(
                request, 409, "Connection failed", f"The tenant's {provider} OAuth app was removed meanwhile."
            )
        authorization = await services.flows.complete(
            scheme,
            app,
            pending,
            code=request.query_params.get("code", ""),
            state=state,
            tenant_id=tenant.id,
            provider=provider,
        )
        bound = [await bind_credential(services, tenant.id, obtained) for obtained in authorization.credentials]
        for obtained in bound:
            assert obtained.user_id == user.id  # OAuthFlows.complete makes a member's authorization theirs
            await services.store.put_credential(obtained)
    except OAuthStateError as exc:
        return _result(request, 400, "Connection failed", exc.message)
    except TokenEndpointError as exc:
        logger.warning("member code exchange failed", extra={"provider": provider, "error": exc.error})
        return _result(request, 502 if exc.error == UNREACHABLE else 400, "Connection failed", exc.message)
    except OAuthError as exc:
        return _result(request, 400, "Connection failed", exc.message)
    except StoreError:
        return _result(request, 503, "Try again", "The server cannot reach its database right now.")
    except Exception:
        logger.exception("the member OAuth callback failed")
        return _result(request, 500, "Connection failed", "The server could not complete the connection. Try again.")
    for obtained in bound:
        services.credential_changed(tenant.slug, tenant.id, obtained.provider, user.id)
    logger.info("member connection completed", extra={"tenant": tenant.slug, "provider": provider, "user_id": user.id})
    who = f" as {bound[0].account}" if bound[0].account else ""
    return _result(
        request,
        200,
        "Connected",
        f"Your {cls.info.title} account is connected{who} for {tenant.name or tenant.slug}. Go back to your MCP "
        "client and call the tool again: it now runs with your own account.",
        back=back,
    )


def connect_routes() -> list[Route]:
    return [
        Route("/connect/{tenant}/{connector}", connect_page, methods=["GET"], name="connectPage"),
        Route("/connect/{tenant}/{connector}", start_connection, methods=["POST"], name="connectStart"),
        Route("/connect/{tenant}/{connector}/disconnect", disconnect_page, methods=["POST"], name="connectDisconnect"),
    ]
