"""The `sagemcp` commands for people: users, tenant members, invitations and OpenID Connect sign-in providers.

    sagemcp user create|list|delete|set-password
    sagemcp member add|list|remove|role
    sagemcp invite create|list|revoke
    sagemcp oidc add|list|remove

They go through the admin API in-process, like the other management commands. Users are
named by e-mail (or id). Passwords and client secrets are read from standard input
(`--password-stdin`, `--client-secret-stdin`) or asked for on a terminal, never taken as
arguments, which other users of the machine can see.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from .cli import CliError, _Api, _emit, _run_api, _table

__all__ = ["register"]

_ROLES = ["owner", "admin", "member"]


def _password(args: argparse.Namespace, *, required: bool) -> str | None:
    """The new password from standard input or a terminal prompt; None if the account gets none."""
    if getattr(args, "password_stdin", False):
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            raise CliError("no password on standard input")
        return text
    if getattr(args, "no_password", False):
        return None
    if not sys.stdin.isatty():
        hint = "--password-stdin" if required else "--password-stdin, or --no-password for sign-in through a provider"
        raise CliError(f"give the password with {hint}", code=2)
    first = getpass.getpass("New password (at least 12 characters): ")
    if first != getpass.getpass("The same password again: "):
        raise CliError("the two passwords differ")
    return first


async def _user_id(api: _Api, ref: str) -> str:
    """A user's id from their e-mail or id."""
    if "@" in ref:
        user = await api.services.people.get_user_by_email(ref)
        if user is None:
            raise CliError(f"no user with e-mail {ref!r}")
        return str(user.id)
    return ref


def _user_line(d: dict[str, Any]) -> str:
    flags = [f for f, on in (("platform admin", d["platform_admin"]), ("inactive", not d["active"])) if on]
    return f"user {d['email']} ({d['id']})" + (f" [{', '.join(flags)}]" if flags else "")


# -- users ----------------------------------------------------------------------------------


def cmd_user_create(args: argparse.Namespace) -> None:
    password = _password(args, required=False)
    body: dict[str, Any] = {"email": args.email, "name": args.name or "", "platform_admin": args.platform_admin}
    if password is not None:
        body["password"] = password
    data = _run_api(args, lambda api: api.call("POST", "/admin/users", body))
    _emit(args, data, lambda d: "created " + _user_line(d))


def cmd_user_list(args: argparse.Namespace) -> None:
    async def work(api: _Api) -> Any:
        items: list[Any] = []
        cursor = None
        while True:
            page = await api.call(
                "GET", "/admin/users", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
            )
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return {"items": items, "next_cursor": None}

    data = _run_api(args, work, writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [
                (
                    u["email"],
                    u["name"],
                    u["id"],
                    "yes" if u["platform_admin"] else "",
                    "locked" if u["locked"] else ("active" if u["active"] else "inactive"),
                    "password" if u["has_password"] else "provider only",
                )
                for u in d["items"]
            ],
            ["EMAIL", "NAME", "ID", "PLATFORM ADMIN", "STATUS", "SIGN-IN"],
        ),
    )


def cmd_user_delete(args: argparse.Namespace) -> None:
    if not args.yes:
        raise CliError("deleting a user removes their memberships and connections; confirm with --yes", code=2)

    async def work(api: _Api) -> Any:
        return await api.call("DELETE", f"/admin/users/{await _user_id(api, args.user)}")

    _run_api(args, work)
    _emit(args, {"deleted": args.user}, lambda d: f"deleted user {d['deleted']}")


def cmd_user_set_password(args: argparse.Namespace) -> None:
    password = _password(args, required=True)

    async def work(api: _Api) -> Any:
        return await api.call(
            "PATCH", f"/admin/users/{await _user_id(api, args.user)}", {"password": password, "unlock": True}
        )

    data = _run_api(args, work)
    _emit(args, data, lambda d: f"set the password of {_user_line(d)}; their sessions were signed out")


# -- members --------------------------------------------------------------------------------


def cmd_member_add(args: argparse.Namespace) -> None:
    body = {"email": args.email, "role": args.role}
    data = _run_api(args, lambda api: api.call("POST", f"/admin/tenants/{args.tenant}/members", body))
    _emit(args, data, lambda d: f"{d['email']} is now {d['role']} of {args.tenant}")


def cmd_member_list(args: argparse.Namespace) -> None:
    data = _run_api(args, lambda api: api.call("GET", f"/admin/tenants/{args.tenant}/members"), writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [(m["email"], m["name"], m["role"], m["user_id"]) for m in d["items"]], ["EMAIL", "NAME", "ROLE", "USER ID"]
        ),
    )


def cmd_member_remove(args: argparse.Namespace) -> None:
    async def work(api: _Api) -> Any:
        return await api.call("DELETE", f"/admin/tenants/{args.tenant}/members/{await _user_id(api, args.user)}")

    _run_api(args, work)
    _emit(args, {"removed": args.user, "tenant": args.tenant}, lambda d: f"removed {d['removed']} from {d['tenant']}")


def cmd_member_role(args: argparse.Namespace) -> None:
    async def work(api: _Api) -> Any:
        path = f"/admin/tenants/{args.tenant}/members/{await _user_id(api, args.user)}"
        return await api.call("PATCH", path, {"role": args.role})

    data = _run_api(args, work)
    _emit(args, data, lambda d: f"{d['email']} is now {d['role']} of {args.tenant}")


# -- invitations ----------------------------------------------------------------------------


def cmd_invite_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"role": args.role}
    if args.email:
        body["email"] = args.email
    if args.expires_in is not None:
        body["expires_in"] = args.expires_in
    data = _run_api(args, lambda api: api.call("POST", f"/admin/tenants/{args.tenant}/invitations", body))
    _emit(
        args,
        data,
        lambda d: (
            f"invitation {d['id']} as {d['role']} of {args.tenant}, valid until {d['expires_at']}\n"
            f"link (shown only now, works once): {d['url']}"
        ),
    )


def cmd_invite_list(args: argparse.Namespace) -> None:
    data = _run_api(args, lambda api: api.call("GET", f"/admin/tenants/{args.tenant}/invitations"), writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [(i["id"], i["role"], i["email"] or "anyone", i["status"], i["expires_at"]) for i in d["items"]],
            ["ID", "ROLE", "FOR", "STATUS", "EXPIRES"],
        ),
    )


def cmd_invite_revoke(args: argparse.Namespace) -> None:
    _run_api(args, lambda api: api.call("DELETE", f"/admin/tenants/{args.tenant}/invitations/{args.invitation_id}"))
    _emit(args, {"revoked": args.invitation_id}, lambda d: f"revoked invitation {d['revoked']}")


# -- OpenID Connect providers ---------------------------------------------------------------


def _oidc_base(args: argparse.Namespace) -> str:
    return f"/admin/tenants/{args.tenant}/oidc-providers" if args.tenant else "/admin/oidc-providers"


def cmd_oidc_add(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {
        "name": args.name,
        "display_name": args.display_name or "",
        "issuer": args.issuer,
        "client_id": args.client_id,
        "match_by": args.match_by,
    }
    if args.scope:
        body["scopes"] = args.scope
    if args.client_secret_stdin:
        secret = sys.stdin.readline().strip()
        if not secret:
            raise CliError("no client secret on standard input")
        body["client_secret"] = secret
    data = _run_api(args, lambda api: api.call("POST", _oidc_base(args), body))
    _emit(
        args,
        data,
        lambda d: (
            f"added sign-in provider {d['name']} ({d['issuer']})\n"
            f"register this redirect URI with the provider: {d['redirect_uri']}"
        ),
    )


def cmd_oidc_list(args: argparse.Namespace) -> None:
    data = _run_api(args, lambda api: api.call("GET", _oidc_base(args)), writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [(p["name"], p["display_name"], p["issuer"], p["match_by"], p["redirect_uri"]) for p in d["items"]],
            ["NAME", "LABEL", "ISSUER", "MATCH BY", "REDIRECT URI"],
        ),
    )


def cmd_oidc_remove(args: argparse.Namespace) -> None:
    _run_api(args, lambda api: api.call("DELETE", f"{_oidc_base(args)}/{args.name}"))
    _emit(args, {"removed": args.name}, lambda d: f"removed sign-in provider {d['removed']}")


Command = Callable[[Any, str, Callable[[argparse.Namespace], None], str], Any]


def register(sub: Any, command: Command) -> None:
    """Add the people commands to the `sagemcp` parser (`command` makes one subcommand, as in `cli`)."""
    user = sub.add_parser("user", help="users (people who sign in)").add_subparsers(
        dest="user_command", required=True, metavar="COMMAND"
    )
    p = command(user, "create", cmd_user_create, "create a user (the first one usually with --platform-admin)")
    p.add_argument("email")
    p.add_argument("--name")
    p.add_argument("--platform-admin", action="store_true", help="may do everything, like the platform admin key")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    source.add_argument("--no-password", action="store_true", help="signs in only through an OpenID Connect provider")
    command(user, "list", cmd_user_list, "list users")
    p = command(user, "delete", cmd_user_delete, "delete a user (not the last owner of a tenant)")
    p.add_argument("user", help="e-mail or id")
    p.add_argument("--yes", action="store_true", help="confirm")
    p = command(user, "set-password", cmd_user_set_password, "set a user's password, unlock them, sign them out")
    p.add_argument("user", help="e-mail or id")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    member = sub.add_parser("member", help="tenants' members and their roles").add_subparsers(
        dest="member_command", required=True, metavar="COMMAND"
    )
    p = command(member, "add", cmd_member_add, "add an existing user to a tenant")
    p.add_argument("email")
    p.add_argument("--tenant", required=True)
    p.add_argument("--role", choices=_ROLES, default="member")
    p = command(member, "list", cmd_member_list, "list a tenant's members")
    p.add_argument("--tenant", required=True)
    p = command(member, "remove", cmd_member_remove, "remove a member (not the last owner)")
    p.add_argument("user", help="e-mail or id")
    p.add_argument("--tenant", required=True)
    p = command(member, "role", cmd_member_role, "change a member's role")
    p.add_argument("user", help="e-mail or id")
    p.add_argument("role", choices=_ROLES)
    p.add_argument("--tenant", required=True)

    invite = sub.add_parser("invite", help="invitations into tenants").add_subparsers(
        dest="invite_command", required=True, metavar="COMMAND"
    )
    p = command(invite, "create", cmd_invite_create, "create a one-time invitation link (shown once)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--role", choices=_ROLES, default="member")
    p.add_argument("--email", help="only this person may accept it")
    p.add_argument("--expires-in", type=int, metavar="SECONDS", help="default SAGEMCP_INVITATION_TTL (7 days)")
    p = command(invite, "list", cmd_invite_list, "list a tenant's invitations")
    p.add_argument("--tenant", required=True)
    p = command(invite, "revoke", cmd_invite_revoke, "revoke a pending invitation")
    p.add_argument("invitation_id")
    p.add_argument("--tenant", required=True)

    oidc = sub.add_parser("oidc", help="OpenID Connect sign-in providers").add_subparsers(
        dest="oidc_command", required=True, metavar="COMMAND"
    )
    p = command(oidc, "add", cmd_oidc_add, "add a sign-in provider (platform-wide, or a tenant's with --tenant)")
    p.add_argument("name", help="unique; part of the redirect URI /signin/oidc/NAME/callback")
    p.add_argument("--issuer", required=True, help="the issuer URL, exactly as the provider spells it")
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from standard input")
    p.add_argument("--display-name", help="the sign-in button's label")
    p.add_argument("--scope", action="append", help="repeatable; default openid email profile")
    p.add_argument("--match-by", choices=["email", "subject"], default="email")
    p.add_argument("--tenant", help="the tenant the provider belongs to (default: the platform)")
    p = command(oidc, "list", cmd_oidc_list, "list sign-in providers")
    p.add_argument("--tenant")
    p = command(oidc, "remove", cmd_oidc_remove, "remove a sign-in provider")
    p.add_argument("name")
    p.add_argument("--tenant")
