"""Connecting a tenant's account at an upstream provider with OAuth (authorization code + PKCE).

`POST /api/v1/oauth/{slug}/{provider}/authorize` starts an authorization. Its `state` is
random, single-use, expires after `SAGEMCP_OAUTH_STATE_TTL` seconds (10 minutes) and is
stored server-side (hashed, with the encrypted PKCE verifier), bound to the tenant, the
provider and the redirect URI. The redirect URI is built from `SAGEMCP_PUBLIC_URL`, never
from request headers.

The answer's `authorization_url` is a single-use link to this server,
`GET /api/v1/oauth/start?link=...`, not the provider's URL. The browser that opens it gets
a random cookie (HttpOnly, SameSite=Lax, Secure when the public URL is https, limited to
the callback's path; only its hash is stored, with the state) and is redirected to the
provider. The callback is accepted only with that cookie, so whoever else opens a leaked
provider URL cannot connect their own account to the tenant, and a callback from another
browser leaves the authorization pending for the one that started it.

A member connecting their own account to a `per_user` connector starts at the connect page
(`web.connect`), which binds the state to the member and to their browser directly; this
callback hands such authorizations back to it.

`GET /api/v1/oauth/callback/{provider}` takes the state (one atomic delete, so a replayed
or duplicate callback finds nothing), exchanges the code, stores the encrypted credential
in place of the old one (bound to the upstream origins of the tenant's connectors, see
`api.credentials.bind_credential`), and shows a small result page. A provider's error is
shown by its code only when the code is a known one: `error_description` and `error_uri`
are never shown or logged, since providers put anything there, secrets included.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sagemcp import UNREACHABLE, Connector
from sagemcp.errors import OAuthError, OAuthStateError, StoreError, TokenEndpointError
from sagemcp.platform import ConnectorConfig, ToolPolicy

from .api import params
from .api.auth import tenant_for
from .api.credentials import bind_credential
from .api.errors import ApiError
from .api.providers import classes_for_provider
from .api.routing import Context, Operation
from .api.schemas import AuthorizeRequest, AuthorizeResponse
from .db.store import oauth_state_hash
from .services import Services

__all__ = ["COOKIE_PREFIX", "OPERATIONS", "callback_route", "start_route"]

logger = logging.getLogger("sagemcp_server.oauth")

COOKIE_PREFIX = "sagemcp_oauth_"
"""Browser-binding cookies are named this plus the first 16 hex digits of the state's hash, one per
authorization, so that two authorizations started in one browser do not overwrite each other's."""
_LINK_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_PROVIDER_ERRORS = {
    "access_denied": "the request was declined",
    "invalid_request": "the provider found the request malformed",
    "invalid_scope": "the provider refused the requested scopes",
    "unauthorized_client": "the OAuth app may not use this flow",
    "unsupported_response_type": "the OAuth app may not use the code flow",
    "server_error": "the provider failed",
    "temporarily_unavailable": "the provider is busy or down for now",
    "interaction_required": "the provider needs the user to interact",
    "login_required": "the user must sign in at the provider",
    "consent_required": "the user must consent at the provider",
    "account_selection_required": "the user must choose an account at the provider",
}
"""The provider error codes a failure page names (RFC 6749 section 4.1.2.1, OpenID Connect); any other
code is shown as `error`, and the provider's free text (`error_description`, `error_uri`) never."""
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _cookie_name(state_hash: str) -> str:
    return COOKIE_PREFIX + state_hash[:16]


def _cookie_path(services: Services, provider: str) -> str:
    return urlsplit(services.redirect_uri(provider)).path


async def authorize(ctx: Context, body: AuthorizeRequest) -> AuthorizeResponse:
    services = ctx.services
    tenant = (await tenant_for(ctx)).item
    provider = ctx.path["provider"]
    classes = [c for c in await classes_for_provider(ctx, tenant, provider) if c.oauth2() is not None]
    if not classes:
        raise ApiError(
            422,
            "oauth_not_supported",
            f"No installed {provider} connector uses OAuth.",
            [("provider", "no OAuth scheme")],
        )
    configs = [
        c
        for c in await services.store.list_connectors(tenant.id)
        if c.connector_type in services.registry
        and (c.provider or services.registry.get(c.connector_type).provider_id()) == provider
    ]
    connector_id = None
    if body.connector_id is not None:
        chosen = next((c for c in configs if body.connector_id in (c.id, c.name)), None)
        if chosen is None:
            raise ApiError(
                422,
                "unknown_connector",
                f"Tenant {tenant.slug!r} has no {provider} connector {body.connector_id!r}.",
                [("connector_id", "not found")],
            )
        configs, connector_id = [chosen], chosen.id
    cls: type[Connector] = services.registry.get(configs[0].connector_type) if configs else classes[0]
    scheme = cls.oauth2()
    if scheme is None:
        raise ApiError(422, "oauth_not_supported", f"The {cls.info.id} connector does not use OAuth.")
    app = await services.store.get_oauth_app(tenant.id, provider)
    if app is None:
        raise ApiError(
            409,
            "oauth_app_missing",
            f"Configure the tenant's {provider} OAuth app first: PUT /api/v1/admin/tenants/{tenant.slug}"
            f"/oauth-apps/{provider}, with the redirect URI {services.redirect_uri(provider)}.",
        )
    scopes: list[str] = []
    linked_scopes: dict[str, list[str]] = {}
    targets: list[ConnectorConfig | None] = [*configs] if configs else [None]
    for cfg in targets:
        # The scopes of the tools each connector enables (its default groups when it has no config yet).
        kind = services.registry.get(cfg.connector_type) if cfg is not None else cls
        policy = cfg.tool_policy if cfg is not None else ToolPolicy()
        scopes.extend(kind.oauth_scopes(policy))
        for name, wanted in kind.linked_oauth_scopes(policy).items():
            if any(linked.name == name for linked in scheme.linked_tokens):
                linked_scopes[name] = list(dict.fromkeys([*linked_scopes.get(name, []), *wanted]))
    scopes.extend(body.scopes or [])
    url, pending = services.flows.begin(
        scheme,
        app,
        tenant_id=tenant.id,
        provider=provider,
        redirect_uri=services.redirect_uri(provider),
        scopes=list(dict.fromkeys(scopes)),
        connector_id=connector_id,
        linked_scopes=linked_scopes,
    )
    link = secrets.token_urlsafe(32)
    await services.store.save_oauth_state(pending, link_hash=_digest(link), authorization_url=url)
    logger.info("OAuth authorization started", extra={"tenant": tenant.slug, "provider": provider})
    return AuthorizeResponse(
        authorization_url=f"{services.public_url}/api/v1/oauth/start?link={link}",
        redirect_uri=pending.redirect_uri,
        expires_at=datetime.fromtimestamp(pending.expires_at, UTC),
    )


def _page(status: int, title: str, message: str) -> HTMLResponse:
    body = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    headers = {**_PAGE_HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return HTMLResponse(body, status_code=status, headers=headers)


def _failed(status: int, message: str) -> HTMLResponse:
    return _page(status, "Connection failed", message)


async def start(request: Request) -> Response:
    """Open a single-use authorization link: bind it to this browser with a cookie, then go to the provider."""
    services: Services = request.app.state.services
    link = request.query_params.get("link", "")
    if not _LINK_RE.match(link):
        return _failed(400, "This connection link is incomplete. Start connecting again from the admin console.")
    browser = secrets.token_urlsafe(32)
    try:
        opened = await services.store.open_oauth_link(_digest(link), _digest(browser))
    except StoreError:
        return _failed(503, "The server cannot reach its database right now. Try connecting again in a minute.")
    if opened is None:
        return _failed(
            400,
            "This connection link is unknown, expired or was already opened: a link works once, in one browser. "
            "Start connecting again from the admin console.",
        )
    response = RedirectResponse(opened.authorization_url, status_code=302, headers=_PAGE_HEADERS)
    response.set_cookie(
        _cookie_name(opened.state_hash),
        browser,
        # Outliving the state a little, so that a late callback is told the authorization expired.
        max_age=max(1, int(opened.expires_at - time.time())) + 60,
        path=_cookie_path(services, opened.provider),
        secure=services.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


def _forget_cookie(response: Response, services: Services, provider: str, state: str) -> Response:
    response.delete_cookie(
        _cookie_name(oauth_state_hash(state)),
        path=_cookie_path(services, provider),
        secure=services.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


async def callback(request: Request) -> Response:
    services: Services = request.app.state.services
    provider = str(request.path_params["provider"])
    if not re.match(params.PROVIDER.pattern, provider):
        return _failed(404, "Unknown provider.")
    state = request.query_params.get("state", "")
    if not state or len(state) > 512:
        return _failed(400, "The provider's answer has no state. Start connecting again from the admin console.")
    return _forget_cookie(await _callback(request, services, provider, state), services, provider, state)


async def _callback(request: Request, services: Services, provider: str, state: str) -> Response:
    query = request.query_params
    cookie = request.cookies.get(_cookie_name(oauth_state_hash(state)), "")
    try:
        pending = None
        if cookie:
            pending = await services.store.take_oauth_state(state, browser_hash=_digest(cookie))
        if pending is None and await services.store.oauth_state_pending(state):
            logger.warning("OAuth callback from another browser refused", extra={"provider": provider})
            return _failed(
                403,
                "This authorization was started in another browser: only the browser that opened the connection "
                "link can complete it. Open the link from the admin console in this browser, or start connecting "
                "again.",
            )
    except StoreError:
        return _failed(503, "The server cannot reach its database right now. Try connecting again in a minute.")
    if pending is None:
        return _failed(400, "This authorization is unknown or was already used. Start connecting again.")
    if pending.provider != provider:
        return _failed(400, f"This authorization was started for another provider than {provider}. Start again.")
    if pending.user_id is not None:
        # A member connecting their own account (a per_user connector) from the connect page, which finishes it.
        # Imported here: the connect page builds on this module's browser-binding cookie.
        from .web.connect import finish_member_connection

        return await finish_member_connection(request, services, pending, provider, state)
    error = query.get("error")
    if error:
        code = error if error in _PROVIDER_ERRORS else "error"
        reason = _PROVIDER_ERRORS.get(code, "the provider gave no known reason")
        logger.info("provider refused the authorization", extra={"provider": provider, "error": code})
        return _failed(400, f"{provider} did not authorize the connection ({code}: {reason}). Start connecting again.")
    try:
        tenant = await services.store.get_tenant_by_id(pending.tenant_id)
        app = await services.store.get_oauth_app(pending.tenant_id, provider)
        if tenant is None or app is None:
            return _failed(400, f"The tenant or its {provider} OAuth app was removed meanwhile.")
        classes = [c for c in services.providers().get(provider, []) if c.oauth2() is not None]
        if pending.connector_id is not None:
            cfg = await services.store.get_connector(tenant.id, pending.connector_id)
            if cfg is not None and cfg.connector_type in services.registry:
                classes.insert(0, services.registry.get(cfg.connector_type))
        scheme = next((c.oauth2() for c in classes if c.oauth2() is not None), None)
        if scheme is None:
            return _failed(400, f"No installed {provider} connector uses OAuth any more.")
        authorization = await services.flows.complete(
            scheme,
            app,
            pending,
            code=query.get("code", ""),
            state=state,
            tenant_id=pending.tenant_id,
            provider=provider,
        )
        bound = [await bind_credential(services, tenant.id, obtained) for obtained in authorization.credentials]
        credential = bound[0]
        for obtained in bound:
            await services.store.put_credential(obtained)
    except OAuthStateError as exc:
        return _failed(400, exc.message)
    except TokenEndpointError as exc:
        logger.warning("code exchange failed", extra={"provider": provider, "error": exc.error, "status": exc.status})
        return _failed(502 if exc.error == UNREACHABLE else 400, exc.message)
    except OAuthError as exc:
        return _failed(400, exc.message)
    except StoreError:
        return _failed(503, "The server cannot reach its database right now. Try connecting again in a minute.")
    except Exception:
        logger.exception("the OAuth callback failed")
        return _failed(500, "The server could not complete the connection. Try again, or ask the operator.")
    for obtained in authorization.credentials:
        services.credential_changed(tenant.slug, tenant.id, obtained.provider)
    logger.info(
        "OAuth connection completed",
        extra={"tenant": tenant.slug, "provider": provider, "linked": sorted(authorization.linked)},
    )
    who = f" as {credential.account}" if credential.account else ""
    return _page(
        200, "Connected", f"{provider} is connected for {tenant.name or tenant.slug}{who}. You can close this page."
    )


def callback_route() -> Route:
    return Route("/api/v1/oauth/callback/{provider}", callback, methods=["GET"], name="oauthCallback")


def start_route() -> Route:
    """The single-use authorization link a person opens in the browser that should complete the connection."""
    return Route("/api/v1/oauth/start", start, methods=["GET"], name="oauthStart")


OPERATIONS = [
    Operation(
        "POST",
        "/oauth/{slug}/{provider}/authorize",
        "authorizeOAuth",
        "Start connecting a provider account: returns a single-use link that sends one browser to the provider",
        "oauth",
        authorize,
        AuthorizeResponse,
        body=AuthorizeRequest,
        body_required=False,
        params={"slug": params.SLUG, "provider": params.PROVIDER},
    ),
]
