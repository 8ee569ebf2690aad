"""The README's variable sections, written from the generated connector class (so they start out true)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from .._auth import AuthScheme
from .._connector import Connector
from .._models import ToolPolicy
from ..catalog import render_tools_markdown
from ._code import description_note
from ._plan import ConnectorPlan

__all__ = ["TENANT", "readme_values"]

TENANT = "acme"
"""The tenant slug of the README's examples."""

_WIDTH = 105
_HEADINGS = {
    "oauth2": "OAuth 2.0",
    "bearer": "API token",
    "api_key": "API key",
    "basic": "User name and API token",
    "client_credentials": "Client credentials, server to server",
    "jwt_bearer": "Service account, JWT bearer",
}
_NOTES = {
    "jwt_bearer": "Give `issuer` and `private_key`, or a Google service account's JSON key file as "
    "`service_account_key`; `subject` is the user to act as, where the provider allows it.",
}
# Example field values of each kind for the CLI and admin API examples; secrets are placeholders.
_EXAMPLE_FIELDS: dict[str, dict[str, str]] = {
    "oauth2": {"access_token": "<access token>", "refresh_token": "<refresh token>"},
    "bearer": {"token": "<token>"},
    "api_key": {"key": "<API key>"},
    "basic": {"username": "me@example.com", "token": "<API token>"},
    "client_credentials": {"client_id": "<client id>", "client_secret": "<client secret>"},
    "jwt_bearer": {"issuer": "robot@example.com", "private_key": "<PEM private key>", "subject": "someone@example.com"},
}
_STDIN_SECRETS = ("token", "key", "access_token", "client_secret")
"""The secret the CLI example reads from standard input (arguments are visible to other users)."""


def readme_values(made: ConnectorPlan, cls: type[Connector]) -> dict[str, str]:
    """The README template's values for the connector class `cls` that `made` generated."""
    first = cls.auth[0]
    return {
        "auth_sections": "".join(_auth_section(made, cls, scheme) for scheme in cls.auth),
        "configuration": _configuration(cls),
        "connect_cli": _connect_cli(made, first),
        "connect_api": _connect_api(made, first),
        "tools": render_tools_markdown(cls),
        "spec_note": _wrap(description_note(made).replace("\n", " ")),
    }


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=_WIDTH, break_on_hyphens=False, break_long_words=False)


def _auth_section(made: ConnectorPlan, cls: type[Connector], scheme: AuthScheme) -> str:
    lines = ["", f'### {_HEADINGS[scheme.kind]} (`kind="{scheme.kind}"`)', "", _wrap(scheme.description), ""]
    if scheme.kind == "oauth2":
        scopes = ", ".join(f"`{s}`" for s in cls.oauth_scopes(ToolPolicy())) or "none"
        text = (
            f"Register an OAuth app with {made.title} whose redirect URI is your deployment's "
            f"`/api/v1/oauth/callback/{made.id}` and store its client id and secret for the tenant; the "
            f"authorization then asks for exactly the scopes of the enabled tools (see the table under Tools): "
            f"with the default groups, {scopes}. A token obtained elsewhere can be stored from these fields:"
        )
        lines += [_wrap(text), ""]
    elif scheme.kind in _NOTES:
        lines += [_wrap(_NOTES[scheme.kind]), ""]
    if scheme.kind != "oauth2" and "oauth2" in made.auth:
        scopes = ", ".join(f"`{s}`" for s in cls.oauth_scopes(None))
        lines += [_wrap(f"The credential needs the scopes the tools declare: {scopes}."), ""]
    lines += ["| Field | | Meaning |", "|---|---|---|"]
    schema = scheme.fields_model().model_json_schema()
    required = set(schema.get("required", ()))
    properties: dict[str, Any] = schema.get("properties", {})
    for name in sorted(properties, key=lambda n: n not in required):  # required fields first, else in order
        prop = properties[name]
        what = ("required" if name in required else "optional") + (", secret" if _write_only(prop) else "")
        meaning = str(prop.get("description") or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {what} | {meaning} |")
    return "\n".join(lines) + "\n"


def _write_only(prop: dict[str, Any]) -> bool:
    return bool(prop.get("writeOnly")) or any(_write_only(p) for p in prop.get("anyOf", ()) if isinstance(p, dict))


def _example_fields(scheme: AuthScheme) -> dict[str, str]:
    fields = dict(_EXAMPLE_FIELDS[scheme.kind])
    for name, info in scheme.fields_model().model_fields.items():
        if info.is_required() and name not in fields:
            fields[name] = f"<{name}>"
    return fields


def _connect_cli(made: ConnectorPlan, scheme: AuthScheme) -> str:
    """The `sagemcp` commands that connect a tenant with a credential of `scheme`."""
    head = f"sagemcp connector add {made.id} --tenant {TENANT}"
    key = f"sagemcp key create --tenant {TENANT} --name claude"
    if scheme.kind == "oauth2":
        app = (
            f'printf %s "$CLIENT_SECRET" | sagemcp oauth-app set {made.id} --tenant {TENANT} '
            "--client-id <client id> --client-secret-stdin"
        )
        return "\n".join([head, app, key, "# then authorize through the admin API (below)"])
    fields = _example_fields(scheme)
    stdin = next((name for name in fields if name in _STDIN_SECRETS), None)
    args = [f"sagemcp credential set {made.id} --tenant {TENANT} --kind {scheme.kind}"]
    for name in fields:
        if name == stdin:
            continue
        args.append(f"--field-file {name}=key.pem" if name == "private_key" else f'--field {name}="${name.upper()}"')
    command = " ".join(args)
    if stdin is not None:
        command = f'printf %s "${stdin.upper()}" | {command} --field-stdin {stdin}'
    return "\n".join([head, command, key])


def _connect_api(made: ConnectorPlan, scheme: AuthScheme) -> str:
    """The admin API calls that connect a tenant with a credential of `scheme`."""
    calls = [
        f"POST /api/v1/admin/tenants/{TENANT}/connectors",
        json.dumps({"connector_type": made.id, "name": made.id}),
        "",
    ]
    if scheme.kind == "oauth2":
        calls += [
            f"PUT /api/v1/admin/tenants/{TENANT}/oauth-apps/{made.id}",
            json.dumps({"client_id": "<client id>", "client_secret": "<client secret>"}),
            "",
            f"POST /api/v1/oauth/{TENANT}/{made.id}/authorize",
            "{}",
            "# send the person who connects the account to the authorization_url of the answer",
            "",
        ]
    else:
        calls += [
            f"PUT /api/v1/admin/tenants/{TENANT}/credentials/{made.id}",
            json.dumps({"kind": scheme.kind, "fields": _example_fields(scheme)}),
            "",
        ]
    calls += [f"POST /api/v1/admin/tenants/{TENANT}/api-keys", json.dumps({"name": "claude", "scopes": ["mcp"]})]
    return "\n".join(calls)


def _configuration(cls: type[Connector]) -> str:
    fields = cls.Config.model_fields
    if not fields:
        return "The connector has no settings yet: a tenant's connector is created with the configuration `{}`."
    lines = ["| Key | Default | Meaning |", "|---|---|---|"]
    for name, info in fields.items():
        default = "required" if info.is_required() else f"`{info.default!r}`"
        lines.append(f"| `{name}` | {default} | {info.description or ''} |")
    return "\n".join(lines)
