"""The `sagemcp` commands for the built-in authorization server's clients and tokens.

    sagemcp oauth-client list|add|delete    MCP clients (registered, pre-registered, metadata documents)
    sagemcp token revoke                    revoke a user's (or a client's) access and refresh tokens

They work on the database directly, like the other management commands. Revocation takes
effect in running servers within their cache TTL (`SAGEMCP_CACHE_TTL`, 5 seconds).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .cli import CliError, _Api, _emit, _run_api, _table

__all__ = ["register"]

Command = Callable[[Any, str, Callable[[argparse.Namespace], None], str], Any]


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds") if timestamp else ""


def cmd_oauth_client_list(args: argparse.Namespace) -> None:
    async def work(api: _Api) -> Any:
        items: list[dict[str, Any]] = []
        after = None
        while True:
            page = await api.services.authz.list_clients(limit=500, after=after)
            for summary in page.items:
                client = summary.client
                items.append(
                    {
                        "client_id": client.client_id,
                        "kind": client.kind,
                        "name": client.metadata.get("client_name") or "",
                        "redirect_uris": list(client.metadata.get("redirect_uris") or []),
                        "token_endpoint_auth_method": client.metadata.get("token_endpoint_auth_method", "none"),
                        "live_grants": summary.live_grants,
                        "created_at": _when(client.created_at),
                        "fetched_at": _when(client.fetched_at) or None,
                    }
                )
            if page.next_cursor is None:
                return {"items": items}
            after = page.next_cursor

    data = _run_api(args, work, writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [
                (
                    c["client_id"],
                    c["kind"],
                    c["name"],
                    ", ".join(c["redirect_uris"][:2])
                    + (f" (+{len(c['redirect_uris']) - 2})" if len(c["redirect_uris"]) > 2 else ""),
                    c["live_grants"],
                )
                for c in d["items"]
            ],
            ["CLIENT ID", "KIND", "NAME", "REDIRECT URIS", "GRANTS"],
        ),
    )


def cmd_oauth_client_add(args: argparse.Namespace) -> None:
    from .authz import tokens
    from .authz.clients import checked_metadata

    try:
        stored = checked_metadata(
            {
                "redirect_uris": args.redirect_uri,
                "client_name": args.name,
                "token_endpoint_auth_method": "none" if args.public else "client_secret_post",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": "mcp",
            }
        )
    except ValueError as exc:
        raise CliError(str(exc), code=2) from None
    client_id = str(uuid.uuid4())
    secret = None if args.public else tokens.new_secret(tokens.CLIENT_SECRET_PREFIX)
    stored["client_id_issued_at"] = int(time.time())

    async def work(api: _Api) -> Any:
        from .authz.store import RegistrationLimitReached

        try:
            await api.services.authz.register_client(
                client_id,
                stored,
                secret_digest=tokens.digest(secret) if secret else None,
                registered_from=None,
                kind="preregistered",
            )
        except RegistrationLimitReached as exc:
            raise CliError(exc.message) from None
        return {"client_id": client_id, "client_secret": secret, "name": args.name, **stored}

    data = _run_api(args, work)
    _emit(
        args,
        data,
        lambda d: (
            f"added OAuth client {d['name']}\nclient_id: {d['client_id']}"
            + (
                f"\nclient_secret (shown only now): {d['client_secret']}"
                if d["client_secret"]
                else "\n(a public client)"
            )
        ),
    )


def cmd_oauth_client_delete(args: argparse.Namespace) -> None:
    if not args.yes:
        raise CliError(f"deleting client {args.client_id!r} revokes every token it holds; add --yes", code=2)

    async def work(api: _Api) -> Any:
        if not await api.services.authz.delete_client(args.client_id):
            raise CliError(f"no OAuth client {args.client_id!r}")
        return {"deleted": args.client_id}

    data = _run_api(args, work)
    _emit(args, data, lambda d: f"deleted OAuth client {d['deleted']} and revoked its tokens")


def cmd_token_revoke(args: argparse.Namespace) -> None:
    if not (args.user or args.tenant or args.client):
        raise CliError("name whose tokens to revoke: --user, --tenant and/or --client", code=2)
    if args.redirect_uri and not args.client:
        raise CliError("--redirect-uri narrows --client: give both", code=2)

    async def work(api: _Api) -> Any:
        user_id = tenant_id = None
        if args.user:
            user = (
                await api.services.people.get_user_by_email(args.user)
                if "@" in args.user
                else await api.services.people.get_user(args.user)
            )
            if user is None:
                raise CliError(f"no user {args.user!r}")
            user_id = user.id
        if args.tenant:
            tenant = await api.services.store.get_tenant(args.tenant)
            if tenant is None:
                raise CliError(f"no tenant {args.tenant!r}")
            tenant_id = tenant.id
        revoked = await api.services.authz.revoke(
            user_id=user_id, tenant_id=tenant_id, client_id=args.client, redirect_uri=args.redirect_uri
        )
        return {"revoked_grants": revoked}

    data = _run_api(args, work)
    _emit(
        args,
        data,
        lambda d: (
            f"revoked {d['revoked_grants']} grant(s): their access and refresh tokens stop working "
            "(in running servers within the cache TTL)"
        ),
    )


def register(sub: Any, command: Command) -> None:
    """Add the OAuth client and token commands to the `sagemcp` parser."""
    clients = sub.add_parser("oauth-client", help="MCP clients of the built-in authorization server").add_subparsers(
        dest="oauth_client_command", required=True, metavar="COMMAND"
    )
    command(clients, "list", cmd_oauth_client_list, "list OAuth clients and how many grants each holds")
    p = command(clients, "add", cmd_oauth_client_add, "pre-register an OAuth client (its secret is shown once)")
    p.add_argument("--name", required=True, help="shown to people on the consent page")
    p.add_argument("--redirect-uri", action="append", required=True, help="repeatable; compared exactly")
    p.add_argument("--public", action="store_true", help="a public client (PKCE only, no secret)")
    p = command(clients, "delete", cmd_oauth_client_delete, "delete an OAuth client and revoke its tokens")
    p.add_argument("client_id")
    p.add_argument("--yes", action="store_true", help="confirm")

    token = sub.add_parser("token", help="access and refresh tokens of MCP clients").add_subparsers(
        dest="token_command", required=True, metavar="COMMAND"
    )
    p = command(token, "revoke", cmd_token_revoke, "revoke the grants (access and refresh tokens) that match")
    p.add_argument("--user", help="the user's e-mail or id")
    p.add_argument("--tenant", help="only grants for this tenant")
    p.add_argument("--client", help="only grants of this client id")
    p.add_argument(
        "--redirect-uri", help="with --client: only grants made through this redirect URI (one installation)"
    )
