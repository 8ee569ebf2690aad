"""`sagemcp`: run the server and manage it from the command line.

Management commands work on the database directly (no running server needed) and go
through the same code as the admin API, so they validate the same way and `--json`
prints exactly what the API would return. Output is for people by default.

    sagemcp serve [--demo]              run the server (upgrades the database first)
    sagemcp db upgrade                  upgrade the database schema
    sagemcp tenant create|list|delete
    sagemcp connector add|list|show|update|remove
    sagemcp key create|list|revoke
    sagemcp connectors                  installed connector types and load failures
    sagemcp keys rotate|generate        the key ring that encrypts secrets at rest
    sagemcp oauth-app set               a tenant's OAuth client for a provider
    sagemcp credential set|list|delete  a tenant's credentials for providers (a token, or a scheme's fields)
    sagemcp audit                       a tenant's tool calls, newest first
    sagemcp user create|list|delete|set-password
    sagemcp member add|list|remove|role a tenant's members and their roles
    sagemcp invite create|list|revoke   one-time invitation links into a tenant
    sagemcp oidc add|list|remove        OpenID Connect sign-in providers
    sagemcp oauth-client list|add|delete  MCP clients of the built-in authorization server
    sagemcp token revoke                MCP clients' access and refresh tokens (a user's, a client's)
    sagemcp completion bash|zsh|tcsh    a shell completion script
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import SecretStr, ValidationError

from . import __version__
from .settings import Settings

__all__ = ["main"]


class CliError(Exception):
    def __init__(self, message: str, body: Any = None, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        self.code = code


# -- output -----------------------------------------------------------------------------------


def _emit(args: argparse.Namespace, data: Any, human: Callable[[Any], str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        text = human(data)
        if text:
            print(text)


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- settings and the in-process API ----------------------------------------------------------


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise CliError(f"invalid settings: {problems}") from None


def _url_note(settings: Settings, *, serving: bool = False) -> str:
    """Where printed URLs and redirect URIs come from, so that a wrong one is easy to correct."""
    if settings.public_url:
        source = "--public-url or SAGEMCP_PUBLIC_URL" if serving else "SAGEMCP_PUBLIC_URL"
        return f"URLs are built from {source} ({settings.public_url})"
    source = "--host/--port or SAGEMCP_HOST/SAGEMCP_PORT" if serving else "SAGEMCP_HOST and SAGEMCP_PORT"
    return (
        f"URLs are built from the configured host and port ({settings.resolved_public_url()}, from {source}); "
        "set SAGEMCP_PUBLIC_URL to the address clients and providers reach the server at"
    )


async def _schema_revision(engine: Any, settings: Settings) -> str | None:
    """The database's schema revision; a `CliError` saying what to do when the database is unreachable or the
    PostgreSQL schema named by SAGEMCP_DATABASE_SCHEMA does not exist."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from .db import current_revision

    try:
        if settings.database_schema and engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                query = text("SELECT 1 FROM pg_namespace WHERE nspname = :name")
                found = (await conn.execute(query, {"name": settings.database_schema})).first()
            if found is None:
                schema = settings.database_schema
                raise CliError(
                    f"the database has no schema {schema!r} (SAGEMCP_DATABASE_SCHEMA): create it with "
                    f"`CREATE SCHEMA {schema}`, or set SAGEMCP_DATABASE_SCHEMA to an existing one"
                )
        revision: str | None = await current_revision(engine)
        return revision
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        raise CliError(f"the database is not reachable ({type(exc).__name__}); check SAGEMCP_DATABASE_URL") from None


def _schema_not_current(current: str | None, *, instead: str) -> CliError:
    from .db import head_revision

    found = f"at {current}" if current else "empty"
    return CliError(f"the database schema is {found}, this version needs {head_revision()}: {instead}")


def _require_current_schema(settings: Settings) -> None:
    """A `CliError` unless the database's schema is current (for commands that work on the tables directly)."""
    from .db import create_engine, head_revision

    async def go() -> str | None:
        engine = create_engine(settings.resolved_database_url(), schema=settings.database_schema)
        try:
            return await _schema_revision(engine, settings)
        finally:
            await engine.dispose()

    current = asyncio.run(go())
    if current != head_revision():
        raise _schema_not_current(current, instead="run `sagemcp db upgrade` first")


class _Api:
    """The admin API in-process, called with a one-off platform admin key that never leaves memory.

    Commands that change something upgrade an outdated schema first (and say so on standard
    error, unless SAGEMCP_AUTO_MIGRATE=false); read-only ones (`writes=False`) never change the
    database and ask for `sagemcp db upgrade` instead.
    """

    def __init__(self, settings: Settings, *, writes: bool = True) -> None:
        self._key = "cli_" + secrets.token_urlsafe(32)
        self.settings = settings.model_copy(update={"admin_key": SecretStr(self._key)})
        self.writes = writes

    async def __aenter__(self) -> _Api:
        import httpx

        from .app import create_app
        from .keyring import KeyRingError

        try:
            self.app = create_app(self.settings)
        except (KeyRingError, ValueError) as exc:
            raise CliError(str(exc)) from None
        self.services = self.app.state.services
        try:
            await self._check_schema()
        except BaseException:
            await self.services.upstream.aclose()
            await self.services.engine.dispose()
            raise
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://127.0.0.1",
            headers={"Authorization": f"Bearer {self._key}"},
        )
        return self

    async def _check_schema(self) -> None:
        from .app import _migrate
        from .db import head_revision

        current = await _schema_revision(self.services.engine, self.settings)
        if current == head_revision():
            return
        if not (self.writes and self.settings.auto_migrate):
            instead = "run `sagemcp db upgrade` (or start `sagemcp serve`, which upgrades it)"
            raise _schema_not_current(current, instead=instead)
        try:
            await _migrate(self.services, deadline=5.0)
        except RuntimeError as exc:
            raise CliError(str(exc)) from None
        print(f"sagemcp: upgraded the database schema from {current or 'empty'} to {head_revision()}", file=sys.stderr)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.services.upstream.aclose()
        await self.services.engine.dispose()

    async def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = await self.client.request(method, "/api/v1" + path, json=body, params=params)
        data = response.json() if response.content else None
        if response.status_code >= 400:
            error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
            message = error.get("message", f"HTTP {response.status_code}")
            details = "; ".join(f"{d.get('field') or '-'}: {d.get('message')}" for d in error.get("details", []))
            raise CliError(f"{message}" + (f" ({details})" if details else ""), body=data)
        return data


def _run_api(args: argparse.Namespace, work: Callable[[_Api], Any], *, writes: bool = True) -> Any:
    """Run `work` against the in-process admin API; `writes=False` for commands that only read."""

    async def go() -> Any:
        async with _Api(_settings(args), writes=writes) as api:
            return await work(api)

    return asyncio.run(go())


# -- commands ---------------------------------------------------------------------------------


def settings_environment(settings: Settings) -> dict[str, str]:
    """`settings` as the `SAGEMCP_*` variables that rebuild it in a worker process, secrets included."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(exclude_none=True, mode="json").items():
        field = getattr(settings, name)
        if isinstance(field, SecretStr):
            value = field.get_secret_value()  # the JSON dump masks secrets as "**********"
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"SAGEMCP_{name.upper()}"] = str(value)
    return env


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from .deadlines import HEADER_TIMEOUT_ENV, GuardedH11Protocol
    from .eventloop import GuardedSelectorEventLoop
    from .logging import configure_logging

    settings = _settings(
        args,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_format=args.log_format,
        log_level=args.log_level,
        public_url=args.public_url,
        auto_migrate=False if args.no_migrate else None,
    )
    configure_logging(settings.log_format, settings.log_level)
    if settings.public_url is None and settings.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("sagemcp_server").warning(
            "SAGEMCP_PUBLIC_URL is not set: OAuth redirect URIs and printed URLs use %s; set it to the URL "
            "users and providers reach this server at",
            settings.resolved_public_url(),
        )
    asyncio.run(_prepare(settings, demo=args.demo))
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "server_header": False,
        "lifespan": "on",
        # Slow clients (see `deadlines` and docs/operations.md). uvicorn builds the protocol in each worker
        # process, which reads its header deadline from the environment.
        "http": GuardedH11Protocol,
        "loop": GuardedSelectorEventLoop,
        "timeout_keep_alive": settings.http_keep_alive_timeout,
        "limit_concurrency": settings.http_max_connections,
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
        # A WebSocket message is one MCP request too: the same bound as a request body.
        "ws_max_size": settings.mcp_max_body_bytes,
    }
    os.environ[HEADER_TIMEOUT_ENV] = str(settings.http_header_timeout)
    if settings.workers > 1:
        # Workers build the app from the environment: hand them our settings that way.
        os.environ.update(settings_environment(settings))
        uvicorn.run("sagemcp_server.app:create_app_from_env", factory=True, workers=settings.workers, **common)
        return
    from .app import create_app

    uvicorn.run(create_app(settings), **common)


async def _prepare(settings: Settings, *, demo: bool) -> None:
    """Key file, schema, first admin key and demo tenant, before the server (and its workers) start."""
    from sagemcp.platform import ConnectorRegistry

    from .app import build_services
    from .bootstrap import client_configs, ensure_admin_key, ensure_demo
    from .keyring import KeyRingError

    try:
        services = build_services(
            settings, registry=ConnectorRegistry.from_entry_points() if demo else ConnectorRegistry()
        )
    except KeyRingError as exc:
        raise CliError(str(exc)) from None
    try:
        await _prepare_schema(services, settings)
        raw = await ensure_admin_key(services.store, settings)
        out = sys.stdout
        if raw is not None:
            print("\n" + "=" * 72, file=out)
            print("Created the platform admin API key (shown only now; store it safely):\n", file=out)
            print(f"    {raw}\n", file=out)
            print("Use it as `Authorization: Bearer <key>` on /api/v1/admin/..., or set SAGEMCP_ADMIN_KEY.", file=out)
            print("=" * 72 + "\n", file=out)
        if demo:
            setup = await ensure_demo(services.store, services.registry, settings.resolved_public_url())
            print(f"\nDemo tenant '{setup.slug}' with connectors: {', '.join(setup.connectors) or '(none)'}", file=out)
            print(f"MCP URL: {setup.mcp_url}", file=out)
            print(f"({_url_note(settings, serving=True)})", file=out)
            if setup.key is None:
                print(
                    "The demo MCP key was created on an earlier start and cannot be shown again;\n"
                    "create another with: sagemcp key create --tenant demo --name laptop",
                    file=out,
                )
            else:
                print(f"MCP API key (shown only now): {setup.key}\n", file=out)
                for client, text in client_configs(setup.mcp_url, setup.key).items():
                    print(f"--- {client} ---\n{text}\n", file=out)
            out.flush()
    finally:
        await services.upstream.aclose()
        await services.engine.dispose()


async def _prepare_schema(services: Any, settings: Settings) -> None:
    """Upgrade the schema (waiting for the database to come up), or with `--no-migrate` check that it is current."""
    from sqlalchemy.exc import SQLAlchemyError

    from .app import _migrate
    from .db import head_revision

    if not settings.auto_migrate:
        current = await _schema_revision(services.engine, settings)
        if current != head_revision():
            raise _schema_not_current(
                current, instead="run `sagemcp db upgrade` first, or start the server without --no-migrate"
            )
        return
    try:
        await _migrate(services)
    except RuntimeError as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError:
        await _schema_revision(services.engine, settings)  # a clear error for a missing schema
        raise


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    from .db import create_engine, upgrade

    settings = _settings(args)

    async def go() -> tuple[str | None, str]:
        engine = create_engine(settings.resolved_database_url(), schema=settings.database_schema)
        try:
            await _schema_revision(engine, settings)  # reachable, and the schema to migrate exists
            return await upgrade(engine)
        finally:
            await engine.dispose()

    try:
        before, after = asyncio.run(go())
    except OSError as exc:
        raise CliError(f"the database is not reachable: {exc}") from None
    data = {"from": before, "to": after}
    _emit(
        args,
        data,
        lambda d: f"database at {d['to']}" + ("" if d["from"] == d["to"] else f" (was {d['from'] or 'empty'})"),
    )


def cmd_db_current(args: argparse.Namespace) -> None:
    from .db import create_engine, head_revision

    settings = _settings(args)

    async def go() -> str | None:
        engine = create_engine(settings.resolved_database_url(), schema=settings.database_schema)
        try:
            return await _schema_revision(engine, settings)
        finally:
            await engine.dispose()

    data = {"current": asyncio.run(go()), "head": head_revision()}
    _emit(args, data, lambda d: f"current: {d['current'] or '(empty)'}\nhead:    {d['head']}")


def cmd_tenant_create(args: argparse.Namespace) -> None:
    data = _run_api(args, lambda api: api.call("POST", "/admin/tenants", {"slug": args.slug, "name": args.name or ""}))
    note = _url_note(_settings(args))
    _emit(args, data, lambda d: f"created tenant {d['slug']} ({d['id']})\nMCP URL: {d['mcp_url']}\n({note})")


def cmd_tenant_list(args: argparse.Namespace) -> None:
    async def work(api: _Api) -> Any:
        items: list[Any] = []
        cursor = None
        while True:
            page = await api.call(
                "GET", "/admin/tenants", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
            )
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return {"items": items}

    data = _run_api(args, work, writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [(t["slug"], t["name"], "yes" if t["active"] else "no", t["id"]) for t in d["items"]],
            ["SLUG", "NAME", "ACTIVE", "ID"],
        ),
    )


_LIMIT_FLAGS = ("calls_per_minute", "concurrent_calls", "credential_calls_per_minute")
_UNSET: Any = object()
"""Default of the limit flags: a flag not given leaves the limit as it is."""


def _limit_value(text: str) -> int | None:
    """A limit on the command line: a number (0: no limit) or `default` (the server's setting)."""
    if text == "default":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'default'") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a limit is 0 (no limit) or more")
    return value


def _limits_text(d: Any) -> str:
    rows = [(name, d["limits"][name], d["effective_limits"][name]) for name in _LIMIT_FLAGS]
    shown = [(n, "default" if own is None else own, eff or "none") for n, own, eff in rows]
    return f"tenant {d['slug']}\n" + _table(shown, ["LIMIT", "OWN", "IN FORCE"])


def cmd_tenant_limits(args: argparse.Namespace) -> None:
    given = {name: getattr(args, name) for name in _LIMIT_FLAGS if getattr(args, name) is not _UNSET}
    if given:
        data = _run_api(args, lambda api: api.call("PATCH", f"/admin/tenants/{args.slug}", {"limits": given}))
    else:
        data = _run_api(args, lambda api: api.call("GET", f"/admin/tenants/{args.slug}"), writes=False)
    _emit(args, {k: data[k] for k in ("slug", "limits", "effective_limits")}, _limits_text)


def _discovery_text(d: Any) -> str:
    pins = ", ".join(d["pinned_tools"]) or "none"
    return f"tenant {d['slug']}\ndiscovery mode: {'on' if d['discovery'] else 'off'}\npinned tools: {pins}"


def cmd_tenant_discovery(args: argparse.Namespace) -> None:
    changes: dict[str, Any] = {}
    if args.mode is not None:
        changes["discovery"] = args.mode == "on"
    if args.no_pins:
        if args.pin:
            raise CliError("give either --pin or --no-pins", code=2)
        changes["pinned_tools"] = []
    elif args.pin:
        changes["pinned_tools"] = args.pin
    if changes:
        data = _run_api(args, lambda api: api.call("PATCH", f"/admin/tenants/{args.slug}", changes))
    else:
        data = _run_api(args, lambda api: api.call("GET", f"/admin/tenants/{args.slug}"), writes=False)
    _emit(args, {k: data[k] for k in ("slug", "discovery", "pinned_tools")}, _discovery_text)


def cmd_tenant_delete(args: argparse.Namespace) -> None:
    if not args.yes:
        raise CliError(
            f"deleting tenant {args.slug!r} deletes all its connectors, credentials and keys; add --yes", code=2
        )
    _run_api(args, lambda api: api.call("DELETE", f"/admin/tenants/{args.slug}"))
    _emit(args, {"deleted": args.slug}, lambda d: f"deleted tenant {d['deleted']}")


def _json_arg(text: str | None, what: str) -> Any:
    if text is None:
        return None
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as handle:
            text = handle.read()
    try:
        return json.loads(text)
    except ValueError:
        raise CliError(f"{what} is not valid JSON") from None


def cmd_connector_add(args: argparse.Namespace) -> None:
    policy: dict[str, Any] = {"read_only": args.read_only}
    if args.groups:
        policy["groups"] = [g.strip() for g in args.groups.split(",") if g.strip()]
    if args.exclude:
        policy["exclude_tools"] = [t.strip() for t in args.exclude.split(",") if t.strip()]
    body = {
        "connector_type": args.type,
        "name": args.name or args.type,
        "description": args.description or "",
        "configuration": _json_arg(args.config, "--config") or {},
        "tool_policy": policy,
        "connection_mode": args.connection_mode,
    }
    data = _run_api(args, lambda api: api.call("POST", f"/admin/tenants/{args.tenant}/connectors", body))
    _emit(
        args,
        data,
        lambda d: (
            f"added connector {d['name']} ({d['id']}) of type {d['connector_type']}\nMCP URL: {d['mcp_url']}\n"
            f"({_url_note(_settings(args))})"
        ),
    )


def cmd_connector_list(args: argparse.Namespace) -> None:
    data = _run_api(args, lambda api: api.call("GET", f"/admin/tenants/{args.tenant}/connectors"), writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [(c["name"], c["connector_type"], "yes" if c["enabled"] else "no", c["id"]) for c in d["items"]],
            ["NAME", "TYPE", "ENABLED", "ID"],
        ),
    )


def cmd_connector_remove(args: argparse.Namespace) -> None:
    _run_api(args, lambda api: api.call("DELETE", f"/admin/tenants/{args.tenant}/connectors/{args.connector}"))
    _emit(args, {"removed": args.connector}, lambda d: f"removed connector {d['removed']}")


def _connector_summary(d: Any) -> str:
    policy = d["tool_policy"]
    groups = "default" if policy.get("groups") is None else ", ".join(policy["groups"]) or "(none)"
    lines = [
        f"connector {d['name']} ({d['id']}) of type {d['connector_type']}: "
        + ("enabled" if d["enabled"] else "disabled"),
        f"groups: {groups}; read-only: {'yes' if policy.get('read_only') else 'no'}",
        f"connection mode: {d.get('connection_mode', 'shared')}",
        f"discovery mode: {'on' if d.get('discovery') else 'off'}; "
        f"pinned tools: {', '.join(d.get('pinned_tools') or ()) or 'none'}",
    ]
    if policy.get("include_tools"):
        lines.append(f"also enabled: {', '.join(policy['include_tools'])}")
    if policy.get("exclude_tools"):
        lines.append(f"disabled: {', '.join(policy['exclude_tools'])}")
    lines.append(f"MCP URL: {d['mcp_url']}")
    return "\n".join(lines)


def cmd_connector_show(args: argparse.Namespace) -> None:
    path = f"/admin/tenants/{args.tenant}/connectors/{args.connector}"
    data = _run_api(args, lambda api: api.call("GET", path), writes=False)
    _emit(args, data, _connector_summary)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def cmd_connector_update(args: argparse.Namespace) -> None:
    """Change a connector: its state, configuration, tool policy or discovery mode (only what is given changes)."""
    path = f"/admin/tenants/{args.tenant}/connectors/{args.connector}"

    async def work(api: _Api) -> Any:
        body: dict[str, Any] = {}
        if args.enable or args.disable:
            body["enabled"] = bool(args.enable)
        if args.description is not None:
            body["description"] = args.description
        if args.config is not None:
            body["configuration"] = _json_arg(args.config, "--config")
        if args.rename is not None:
            body["name"] = args.rename
        if args.connection_mode is not None:
            body["connection_mode"] = args.connection_mode
        if args.discovery is not None:
            body["discovery"] = args.discovery
        if args.no_pins:
            if args.pin:
                raise CliError("give either --pin or --no-pins", code=2)
            body["pinned_tools"] = []
        elif args.pin:
            body["pinned_tools"] = args.pin
        policy_changes = (args.groups, args.default_groups, args.include, args.exclude, args.read_only)
        if any(value is not None and value is not False for value in policy_changes):
            current = await api.call("GET", path)
            policy = dict(current["tool_policy"])
            if args.default_groups:
                policy["groups"] = None
            elif args.groups is not None:
                policy["groups"] = _names(args.groups)
            if args.include is not None:
                policy["include_tools"] = _names(args.include)
            if args.exclude is not None:
                policy["exclude_tools"] = _names(args.exclude)
            if args.read_only is not None:
                policy["read_only"] = args.read_only == "on"
            body["tool_policy"] = policy
        if not body:
            raise CliError("nothing to change: give at least one option (see `sagemcp connector update -h`)", code=2)
        return await api.call("PATCH", path, body)

    _emit(args, _run_api(args, work), _connector_summary)


def cmd_credential_list(args: argparse.Namespace) -> None:
    path = f"/admin/tenants/{args.tenant}/credentials"
    data = _run_api(args, lambda api: api.call("GET", path), writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [(c["provider"], c["kind"], c["status"], c["account"], c["expires_at"]) for c in d["items"]],
            ["PROVIDER", "KIND", "STATUS", "ACCOUNT", "EXPIRES"],
        ),
    )


def cmd_credential_delete(args: argparse.Namespace) -> None:
    if not args.yes:
        raise CliError(
            f"deleting the {args.provider} credential disconnects every connector of tenant {args.tenant!r} that "
            "uses it (it is revoked at the provider where supported); add --yes",
            code=2,
        )
    _run_api(args, lambda api: api.call("DELETE", f"/admin/tenants/{args.tenant}/credentials/{args.provider}"))
    _emit(args, {"deleted": args.provider}, lambda d: f"deleted the {d['deleted']} credential of {args.tenant}")


def cmd_audit(args: argparse.Namespace) -> None:
    """The newest tool calls of a tenant, `--limit` of them (following cursors past one page)."""

    async def work(api: _Api) -> Any:
        items: list[Any] = []
        cursor = None
        filters: dict[str, Any] = {k: v for k, v in (("tool", args.tool), ("outcome", args.outcome)) if v}
        if args.connector:
            connector = await api.call("GET", f"/admin/tenants/{args.tenant}/connectors/{args.connector}")
            filters["connector_id"] = connector["id"]
        while len(items) < args.limit:
            params = {"limit": min(500, args.limit - len(items)), **filters}
            if cursor:
                params["cursor"] = cursor
            page = await api.call("GET", f"/admin/tenants/{args.tenant}/audit", params=params)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        return {"items": items}

    data = _run_api(args, work, writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [
                (e["at"], e["tool"], e["outcome"], e.get("error_code"), f"{e['duration_ms']:.0f} ms", e["principal_id"])
                for e in d["items"]
            ],
            ["AT", "TOOL", "OUTCOME", "ERROR", "DURATION", "PRINCIPAL"],
        ),
    )


def cmd_completion(args: argparse.Namespace) -> None:
    import shtab

    print(shtab.complete(build_parser(), shell=args.shell), end="")


def cmd_key_create(args: argparse.Namespace) -> None:
    if args.platform_admin:
        if args.tenant or args.connector:
            raise CliError("a platform admin key belongs to no tenant or connector", code=2)

        async def admin(api: _Api) -> Any:
            raw, record = await api.services.store.create_api_key(
                None, name=args.name or "platform admin", scopes={"admin", "mcp"}, platform_admin=True
            )
            return {
                "id": record.id,
                "name": record.name,
                "prefix": record.prefix,
                "scopes": sorted(record.scopes),
                "connector_id": None,
                "created_at": record.created_at.isoformat(),
                "revoked": False,
                "key": raw,
            }

        data = _run_api(args, admin)
    else:
        if not args.tenant:
            raise CliError("name the tenant with --tenant (or create a --platform-admin key)", code=2)
        body = {"name": args.name or "", "scopes": args.scope or ["mcp"], "connector_id": args.connector}
        if args.discovery != "tenant":
            body["discovery"] = args.discovery == "on"
        data = _run_api(args, lambda api: api.call("POST", f"/admin/tenants/{args.tenant}/api-keys", body))
    _emit(
        args,
        data,
        lambda d: f"created API key {d['id']} (scopes: {', '.join(d['scopes'])})\nkey (shown only now): {d['key']}",
    )


def cmd_key_list(args: argparse.Namespace) -> None:
    data = _run_api(args, lambda api: api.call("GET", f"/admin/tenants/{args.tenant}/api-keys"), writes=False)
    _emit(
        args,
        data,
        lambda d: _table(
            [
                (
                    k["id"],
                    k["name"],
                    k["prefix"] + "...",
                    ",".join(k["scopes"]),
                    k["connector_id"] or "",
                    "revoked" if k["revoked"] else "active",
                )
                for k in d["items"]
            ],
            ["ID", "NAME", "PREFIX", "SCOPES", "CONNECTOR", "STATUS"],
        ),
    )


def cmd_key_revoke(args: argparse.Namespace) -> None:
    async def work(api: _Api) -> Any:
        if args.tenant:
            return await api.call("DELETE", f"/admin/tenants/{args.tenant}/api-keys/{args.key_id}")
        if not await api.services.store.revoke_api_key(args.key_id):
            raise CliError(f"no API key {args.key_id!r}")
        return None

    _run_api(args, work)
    _emit(args, {"revoked": args.key_id}, lambda d: f"revoked API key {d['revoked']}")


def cmd_connectors(args: argparse.Namespace) -> None:
    from sagemcp.platform import ConnectorRegistry

    from .api.connector_types import describe

    registry = ConnectorRegistry.from_entry_points()
    data = {
        "items": [describe(cls).model_dump(mode="json") for cls in registry],
        "failures": [{"name": f.name, "target": f.target, "reason": f.reason} for f in registry.failures],
    }

    def human(d: Any) -> str:
        text = _table(
            [
                (c["id"], c["title"], c["version"], ",".join(a["kind"] for a in c["auth"]), len(c["tools"]))
                for c in d["items"]
            ],
            ["ID", "TITLE", "VERSION", "AUTH", "TOOLS"],
        )
        if d["failures"]:
            text += "\n\nFailed to load:\n" + "\n".join(
                f"  {f['name']} ({f['target']}): {f['reason']}" for f in d["failures"]
            )
        return text

    _emit(args, data, human)


def cmd_keys_generate(args: argparse.Namespace) -> None:
    from sagemcp.platform import SecretBox

    key = SecretBox.generate_key()
    _emit(args, {"key": key}, lambda d: d["key"])


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from sagemcp.platform import SecretBox

    from .db import SqlStore, create_engine
    from .db.people import PeopleStore
    from .keyring import KEY_FILE_CHECK_INTERVAL, read_key_file, write_key_file

    settings = _settings(args)
    _require_current_schema(settings)  # before the key file changes
    path = None
    if settings.secret_keys is not None and settings.secret_keys.get_secret_value().strip():
        try:
            box = SecretBox.from_env_value(settings.secret_keys.get_secret_value())
        except ValueError as exc:
            raise CliError(f"SAGEMCP_SECRET_KEYS is not usable: {exc}") from None
        ring = list(box.key_ids)
    else:
        path = settings.key_file()
        if path is None or not path.exists():
            raise CliError("no key ring: set SAGEMCP_SECRET_KEYS (new key first, then the old ones)")
        old = read_key_file(path)
        new_keys = [SecretBox.generate_key(), *old]
        write_key_file(path, new_keys)  # the new key is in the ring before anything is encrypted with it
        box = SecretBox(new_keys)
        ring = list(box.key_ids)

    async def go() -> int:
        engine = create_engine(settings.resolved_database_url(), schema=settings.database_schema)
        try:
            store = SqlStore(engine, box)
            return await store.rotate_secrets() + await PeopleStore(store).rotate_secrets()
        finally:
            await engine.dispose()

    changed = asyncio.run(go())
    dropped = False
    if path is not None and args.drop_old:
        # Running servers pick the new key up within KEY_FILE_CHECK_INTERVAL; what they wrote under the old
        # key until then is re-encrypted by a second pass before the old key goes.
        time.sleep(KEY_FILE_CHECK_INTERVAL * 2)
        changed += asyncio.run(go())
        write_key_file(path, read_key_file(path)[:1])
        dropped = True
    data = {
        "re_encrypted": changed,
        "encrypting_key": ring[0],
        "key_ids": ring[:1] if dropped else ring,
        "key_file": str(path) if path else None,
        "old_keys_dropped": dropped,
    }

    def human(d: Any) -> str:
        lines = [f"re-encrypted {d['re_encrypted']} secrets under key {d['encrypting_key']}"]
        if d["key_file"]:
            lines.append(f"key file {d['key_file']} now holds: {', '.join(d['key_ids'])}")
            if not dropped:
                lines.append(
                    "running servers read the key file again and encrypt with the new key within a second; "
                    "run `sagemcp keys rotate --drop-old` to re-encrypt what they wrote meanwhile and forget "
                    "the old keys"
                )
        else:
            lines.append("everything is under the first key of SAGEMCP_SECRET_KEYS: you may now remove the others")
        return "\n".join(lines)

    _emit(args, data, human)


def _secret_arg(value: str | None, from_stdin: bool, what: str) -> str | None:
    if from_stdin:
        text = sys.stdin.readline().strip()
        if not text:
            raise CliError(f"no {what} on standard input")
        return text
    return value


def cmd_oauth_app_set(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"client_id": args.client_id}
    secret = _secret_arg(args.client_secret, args.client_secret_stdin, "client secret")
    if secret is not None:
        body["client_secret"] = secret
    if args.extra:
        body["extra"] = _json_arg(args.extra, "--extra")
    data = _run_api(args, lambda api: api.call("PUT", f"/admin/tenants/{args.tenant}/oauth-apps/{args.provider}", body))
    _emit(
        args,
        data,
        lambda d: (
            f"{d['provider']} OAuth app set for {args.tenant} (client id {d['client_id']}, "
            f"secret {'stored' if d['has_client_secret'] else 'none'})\n"
            f"register this redirect URI with {d['provider']}: {d['redirect_uri']}\n"
            f"({_url_note(_settings(args))})"
        ),
    )


def _field_name(name: str, option: str) -> str:
    name = name.strip()
    if not name:
        raise CliError(f"{option} needs a field name", code=2)
    return name


def _credential_fields(args: argparse.Namespace) -> dict[str, Any] | None:
    """The scheme fields given with --field, --field-file and --field-stdin; None when none were given."""
    fields: dict[str, Any] = {}
    for item in args.field or ():
        name, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--field {item!r}: write NAME=VALUE (or NAME:=JSON for a list or number)", code=2)
        if name.endswith(":"):
            fields[_field_name(name[:-1], "--field")] = _json_arg(value, f"--field {name[:-1]}")
        else:
            fields[_field_name(name, "--field")] = value
    for item in args.field_file or ():
        name, sep, path = item.partition("=")
        if not sep or not path:
            raise CliError(f"--field-file {item!r}: write NAME=PATH", code=2)
        try:
            with open(path, encoding="utf-8") as handle:
                fields[_field_name(name, "--field-file")] = handle.read()
        except OSError as exc:
            raise CliError(f"--field-file {name}: cannot read {path} ({exc.strerror or exc})") from None
    if args.field_stdin:
        value = sys.stdin.read().rstrip("\r\n")
        if not value:
            raise CliError(f"no value for the field {args.field_stdin} on standard input")
        fields[_field_name(args.field_stdin, "--field-stdin")] = value
    return fields or None


def cmd_credential_set(args: argparse.Namespace) -> None:
    fields = _credential_fields(args)
    body: dict[str, Any]
    if fields is not None:
        if args.token is not None or args.token_stdin or args.account:
            raise CliError(
                "give either fields (--field, --field-file, --field-stdin) or a token (--token-stdin, --account); "
                "a token scheme's token and account are fields too: --field-stdin token --field account=NAME",
                code=2,
            )
        body = {"fields": fields}
    else:
        token = _secret_arg(args.token, args.token_stdin, "token")
        if not token:
            raise CliError(
                "give the token with --token-stdin (or --token), or the scheme's fields with --field, --field-file "
                "and --field-stdin (see `sagemcp connectors --json` for each scheme's fields)",
                code=2,
            )
        body = {"token": token}
        if args.account:
            body["account"] = args.account
    if args.kind:
        body["kind"] = args.kind
    data = _run_api(
        args, lambda api: api.call("PUT", f"/admin/tenants/{args.tenant}/credentials/{args.provider}", body)
    )

    def human(d: Any) -> str:
        text = f"{d['provider']} {d['kind']} credential stored for {args.tenant} ({d['status']})"
        if d.get("secrets"):
            text += f"; secrets stored encrypted: {', '.join(d['secrets'])}"
        if not d.get("has_access_token"):
            text += "\nits access token is obtained when a tool first needs it"
        return text

    _emit(args, data, human)


# -- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    common.add_argument("--database-url", default=argparse.SUPPRESS, help="overrides SAGEMCP_DATABASE_URL")

    parser = argparse.ArgumentParser(
        prog="sagemcp", description="The sagemcp server and its management commands.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"sagemcp-server {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(parent: Any, name: str, func: Callable[[argparse.Namespace], None], help_text: str) -> Any:
        p = parent.add_parser(name, help=help_text, description=help_text, parents=[common])
        p.set_defaults(func=func)
        return p

    serve = command(sub, "serve", cmd_serve, "run the server")
    serve.add_argument("--host", help="bind address (SAGEMCP_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (SAGEMCP_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (SAGEMCP_WORKERS, default 1)")
    serve.add_argument("--log-format", choices=["auto", "json", "text"], help="SAGEMCP_LOG_FORMAT")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="SAGEMCP_LOG_LEVEL")
    serve.add_argument("--public-url", help="URL the server is reached at (SAGEMCP_PUBLIC_URL)")
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the database schema on start")
    serve.add_argument(
        "--demo", action="store_true", help="ensure a demo tenant with an MCP key and print client setup"
    )

    db = sub.add_parser("db", help="the database schema").add_subparsers(
        dest="db_command", required=True, metavar="COMMAND"
    )
    command(db, "upgrade", cmd_db_upgrade, "upgrade the database schema to the newest revision")
    command(db, "current", cmd_db_current, "show the schema revision")

    tenant = sub.add_parser("tenant", help="tenants").add_subparsers(
        dest="tenant_command", required=True, metavar="COMMAND"
    )
    p = command(tenant, "create", cmd_tenant_create, "create a tenant")
    p.add_argument("slug")
    p.add_argument("--name")
    command(tenant, "list", cmd_tenant_list, "list tenants")
    p = command(tenant, "limits", cmd_tenant_limits, "show or set a tenant's tool-call limits")
    p.add_argument("slug")
    for name in _LIMIT_FLAGS:
        p.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=_limit_value,
            default=_UNSET,
            metavar="N|default",
            help="a number (0: no limit) or `default` (the server's setting)",
        )
    p = command(tenant, "discovery", cmd_tenant_discovery, "show or set a tenant's discovery mode and pinned tools")
    p.add_argument("slug")
    p.add_argument("mode", nargs="?", choices=["on", "off"], help="meta-tools on the tenant-wide endpoint, or not")
    p.add_argument("--pin", action="append", metavar="TOOL", help="a tool listed beside the meta-tools (repeatable)")
    p.add_argument("--no-pins", action="store_true", help="pin no tools")
    p = command(tenant, "delete", cmd_tenant_delete, "delete a tenant and everything it owns")
    p.add_argument("slug")
    p.add_argument("--yes", action="store_true", help="confirm")

    conn = sub.add_parser("connector", help="a tenant's connectors").add_subparsers(
        dest="connector_command", required=True, metavar="COMMAND"
    )
    p = command(conn, "add", cmd_connector_add, "add a connector to a tenant")
    p.add_argument("type", help="connector type (see `sagemcp connectors`)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--name", help="default: the type")
    p.add_argument("--description")
    p.add_argument("--config", help="configuration as JSON (or @file.json)")
    p.add_argument("--read-only", action="store_true", help="only read-only tools may be called")
    p.add_argument("--groups", help="comma-separated tool groups to enable")
    p.add_argument("--exclude", help="comma-separated tools to disable")
    p.add_argument(
        "--connection-mode",
        choices=["shared", "per_user"],
        default="shared",
        help="shared: the tenant's one account; per_user: each member's own (default shared)",
    )
    p = command(conn, "list", cmd_connector_list, "list a tenant's connectors")
    p.add_argument("--tenant", required=True)
    p = command(conn, "remove", cmd_connector_remove, "remove a connector")
    p.add_argument("connector", help="connector id or name")
    p.add_argument("--tenant", required=True)
    p = command(conn, "show", cmd_connector_show, "show a connector and its tool policy")
    p.add_argument("connector", help="connector id or name")
    p.add_argument("--tenant", required=True)
    p = command(
        conn, "update", cmd_connector_update, "change a connector's state, configuration, tool policy or discovery mode"
    )
    p.add_argument("connector", help="connector id or name")
    p.add_argument("--tenant", required=True)
    state = p.add_mutually_exclusive_group()
    state.add_argument("--enable", action="store_true", help="serve the connector again")
    state.add_argument("--disable", action="store_true", help="stop serving the connector (its data is kept)")
    p.add_argument("--rename", metavar="NAME", help="a new name (its MCP URL changes)")
    p.add_argument("--description")
    p.add_argument("--config", help="the whole configuration as JSON (or @file.json)")
    groups = p.add_mutually_exclusive_group()
    groups.add_argument("--groups", help="comma-separated tool groups to enable (replaces the list)")
    groups.add_argument("--default-groups", action="store_true", help="back to the connector's default groups")
    p.add_argument("--include", metavar="TOOLS", help="comma-separated tools enabled outside their groups")
    p.add_argument("--exclude", metavar="TOOLS", help="comma-separated tools to disable (empty: none)")
    p.add_argument("--read-only", choices=["on", "off"], help="only read-only tools may be called")
    p.add_argument(
        "--connection-mode",
        choices=["shared", "per_user"],
        help="shared: the tenant's one account; per_user: each member's own",
    )
    discovery = p.add_mutually_exclusive_group()
    discovery.add_argument(
        "--discovery",
        dest="discovery",
        action="store_const",
        const=True,
        default=None,
        help="the connector's own endpoint lists the meta-tools (and the pinned tools) instead of every tool",
    )
    discovery.add_argument(
        "--no-discovery", dest="discovery", action="store_const", const=False, help="list every enabled tool"
    )
    p.add_argument(
        "--pin", action="append", metavar="TOOL", help="a tool listed beside the meta-tools (repeatable; replaces)"
    )
    p.add_argument("--no-pins", action="store_true", help="pin no tools")

    key = sub.add_parser("key", help="API keys").add_subparsers(dest="key_command", required=True, metavar="COMMAND")
    p = command(key, "create", cmd_key_create, "create an API key (shown once)")
    p.add_argument("--tenant")
    p.add_argument("--name")
    p.add_argument("--scope", action="append", choices=["mcp", "admin"], help="repeatable; default mcp")
    p.add_argument("--connector", help="limit MCP use to one connector")
    p.add_argument("--platform-admin", action="store_true", help="a key that can do everything")
    p.add_argument(
        "--discovery",
        choices=["on", "off", "tenant"],
        default="tenant",
        help="discovery mode on the MCP endpoints for this key (default: the tenant's setting on the tenant-wide "
        "endpoint, the connector's on a connector's endpoint)",
    )
    p = command(key, "list", cmd_key_list, "list a tenant's API keys")
    p.add_argument("--tenant", required=True)
    p = command(key, "revoke", cmd_key_revoke, "revoke an API key")
    p.add_argument("key_id")
    p.add_argument("--tenant")

    command(sub, "connectors", cmd_connectors, "installed connector types and load failures")

    keys = sub.add_parser("keys", help="the secret key ring").add_subparsers(
        dest="keys_command", required=True, metavar="COMMAND"
    )
    p = command(keys, "rotate", cmd_keys_rotate, "re-encrypt every stored secret under the newest key")
    p.add_argument("--drop-old", action="store_true", help="key file only: forget the old keys afterwards")
    command(keys, "generate", cmd_keys_generate, "print a new random key for SAGEMCP_SECRET_KEYS")

    oauth = sub.add_parser("oauth-app", help="tenants' OAuth clients").add_subparsers(
        dest="oauth_command", required=True, metavar="COMMAND"
    )
    p = command(oauth, "set", cmd_oauth_app_set, "set a tenant's OAuth client for a provider")
    p.add_argument("provider")
    p.add_argument("--tenant", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", help="prefer --client-secret-stdin: arguments are visible to other users")
    p.add_argument("--client-secret-stdin", action="store_true")
    p.add_argument("--extra", help="provider settings as JSON")

    cred = sub.add_parser("credential", help="tenants' upstream tokens").add_subparsers(
        dest="credential_command", required=True, metavar="COMMAND"
    )
    p = command(
        cred,
        "set",
        cmd_credential_set,
        "store a credential for a provider: a token (PAT, bot token, API key), or the fields of a scheme "
        "such as github_app, client_credentials or jwt_bearer",
    )
    p.add_argument("provider")
    p.add_argument("--tenant", required=True)
    p.add_argument(
        "--kind", help="bearer, api_key, basic, github_app, client_credentials... (default: the provider's first)"
    )
    p.add_argument("--token", help="prefer --token-stdin: arguments are visible to other users")
    p.add_argument("--token-stdin", action="store_true")
    p.add_argument("--account", help="who the token acts as")
    p.add_argument(
        "--field",
        action="append",
        metavar="NAME=VALUE",
        help="a plain field of the scheme (repeatable); NAME:=JSON for numbers and lists. Not for secrets",
    )
    p.add_argument(
        "--field-file",
        action="append",
        metavar="NAME=PATH",
        help="a field read from a file (repeatable): a private key (PEM), a service account's JSON key file",
    )
    p.add_argument("--field-stdin", metavar="NAME", help="a field read from standard input (a secret)")
    p = command(cred, "list", cmd_credential_list, "list a tenant's credentials (metadata only, never tokens)")
    p.add_argument("--tenant", required=True)
    p = command(cred, "delete", cmd_credential_delete, "disconnect: revoke at the provider where supported, delete")
    p.add_argument("provider")
    p.add_argument("--tenant", required=True)
    p.add_argument("--yes", action="store_true", help="confirm")

    p = command(sub, "audit", cmd_audit, "a tenant's tool calls, newest first")
    p.add_argument("--tenant", required=True)
    p.add_argument("--limit", type=int, default=50, help="how many events (default 50)")
    p.add_argument("--connector", help="only this connector (id or name)")
    p.add_argument("--tool", help="only this tool")
    p.add_argument("--outcome", choices=["ok", "error", "denied", "invalid", "limited", "upstream_error"])

    p = command(sub, "completion", cmd_completion, "print a shell completion script (bash, zsh or tcsh)")
    p.add_argument("shell", choices=["bash", "zsh", "tcsh"])

    from .cli_people import register

    register(sub, command)
    from .cli_oauth import register as register_oauth

    register_oauth(sub, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.json = getattr(args, "json", False)
    try:
        args.func(args)
    except CliError as exc:
        if args.json and exc.body is not None:
            print(json.dumps(exc.body, indent=2))
        print(f"sagemcp: error: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
