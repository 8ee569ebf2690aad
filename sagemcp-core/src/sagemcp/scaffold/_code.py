"""The values of the code templates: what varies with the options, rendered as ruff would format it."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from urllib.parse import urlsplit

from .. import __version__ as core_version
from ._plan import ConnectorPlan

__all__ = ["READ_SCOPE", "code_values", "description_note"]

_LINE = 120
"""The repository's line length (ruff), which the generated code keeps to."""

# Per kind: the class, its arguments (rendered as Python), the module docstring's bullet.
_SCHEMES: dict[str, tuple[str, list[tuple[str, str]], str]] = {
    "oauth2": (
        "OAuth2",
        [
            ("description", '"OAuth 2.0 authorization code with PKCE; the scopes follow the enabled tools."'),
            ("authorize_url", "AUTHORIZE_URL"),
            ("token_url", "TOKEN_URL"),
            ("pkce", "True"),
        ],
        "the OAuth 2.0 authorization-code flow (with PKCE); it asks for the scopes the enabled tools "
        "declare with `@tool(scopes=...)`.",
    ),
    "bearer": (
        "BearerToken",
        [("description", '"An API token for {title}, sent as a bearer token."')],
        "a token the operator stores, sent as `Authorization: Bearer <token>`.",
    ),
    "api_key": (
        "ApiKey",
        [("description", '"An API key for {title}, sent in the X-API-Key header."'), ("header", '"X-API-Key"')],
        "an API key the operator stores, sent in the `X-API-Key` header.",
    ),
    "basic": (
        "BasicAuth",
        [("description", '"A user name and an API token, sent with HTTP Basic authentication."')],
        "a user name and an API token, sent with HTTP Basic authentication.",
    ),
    "client_credentials": (
        "ClientCredentials",
        [
            ("description", '"Server to server: an app\'s client id and secret, exchanged for short-lived tokens."'),
            ("token_url", "TOKEN_URL"),
        ],
        "an app's client id and secret, exchanged at `TOKEN_URL` for short-lived tokens "
        "(`sagemcp._grants`), renewed by core when due.",
    ),
    "jwt_bearer": (
        "JwtBearer",
        [
            ("description", '"A service account: a JWT signed with its private key, exchanged for tokens."'),
            ("token_url", "TOKEN_URL"),
        ],
        "a service account's private key signs a JWT (RFC 7523) that is exchanged at `TOKEN_URL` for "
        "short-lived tokens, renewed by core when due.",
    ),
}
_TOKEN_KINDS = ("bearer", "oauth2", "client_credentials", "jwt_bearer")
_READ_SCOPE = "items:read"

_TOKEN_KINDS = ("bearer", "oauth2", "client_credentials", "jwt_bearer")
READ_SCOPE = "items:read"
"""The OAuth scope the example tools declare when the connector has an `oauth2` scheme."""


def code_values(made: ConnectorPlan) -> dict[str, str]:
    """The code templates' values for `made`: names, URLs, the auth schemes and what they need."""
    title, kinds = made.title, made.auth
    first = kinds[0]
    homepage = f"{urlsplit(made.base_url).scheme}://{urlsplit(made.base_url).netloc}"
    oauth = "oauth2" in kinds
    names = ["Connector", "ConnectorInfo", "ConnectorSettings", *(_SCHEMES[kind][0] for kind in kinds)]
    endpoints = ""
    if any(kind in kinds for kind in ("oauth2", "client_credentials", "jwt_bearer")):
        lines = ["", "# The provider's OAuth endpoints: check them against its documentation."]
        if oauth:
            lines.append(f'AUTHORIZE_URL = "{homepage}/oauth/authorize"')
        lines.append(f'TOKEN_URL = "{homepage}/oauth/token"')
        endpoints = "\n".join(lines) + "\n"
    summary = "items, read and listed, as MCP tools."
    return {
        "id": made.id,
        "title": title,
        "package": made.package,
        "dist": made.dist,
        "prefix": made.prefix,
        "base_url": made.base_url,
        "homepage": homepage,
        "summary": summary,
        "description": f"Items in {title}: read one, or list them a page at a time.",
        "core_requirement": _core_requirement(core_version),
        "connector_imports": _import_line("sagemcp", names),
        "auth_doc": "\n".join(
            textwrap.fill(f"- `{kind}`: {_SCHEMES[kind][2]}", width=110, subsequent_indent="  ") for kind in kinds
        ),
        "auth_tuple": _auth_tuple(kinds, title),
        "endpoints": endpoints,
        "scopes_constant": (
            f'\nREAD_SCOPES = ("{READ_SCOPE}",)\n'
            '"""The OAuth scopes the read tools need; an authorization asks for those of the enabled tools."""\n'
            if oauth
            else ""
        ),
        "scopes_argument": ", scopes=READ_SCOPES" if oauth else "",
        "first_kind": first,
        "e2e_from_imports": _sorted_from_imports(
            {
                f"{made.id}_support": f"Fake{made.prefix}, example, expected_auth",
            }
        ),
        "support_imports": "import base64\n" if first == "basic" else "",
        "expected_auth": _expected_auth(first),
        "description_path": _description_path(made),
        "description_note": description_note(made),
    }


def _core_requirement(version: str) -> str:
    """`>=0.1,<0.2` for core 0.1.x, `>=1.2,<2` for 1.2.x: the releases this core's API is kept in."""
    numbers = [int(n) for n in re.findall(r"\d+", version)[:2]] + [0, 0]
    major, minor = numbers[0], numbers[1]
    upper = f"{major}.{minor + 1}" if major == 0 else str(major + 1)
    return f">={major}.{minor},<{upper}"


def _import_line(module: str, names: Sequence[str]) -> str:
    """`from module import ...` with the names in the order ruff's isort keeps (constants, classes, the rest)."""

    def key(name: str) -> tuple[int, str]:
        kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
        return kind, name.lower()

    ordered = sorted(dict.fromkeys(names), key=key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= _LINE:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in ordered) + ")"


def _sorted_from_imports(imports: dict[str, str]) -> str:
    """`from module import names` lines in isort's order of modules (where a test helper's name falls varies)."""
    return "\n".join(f"from {module} import {imports[module]}" for module in sorted(imports, key=str.lower))


def _auth_tuple(kinds: Sequence[str], title: str) -> str:
    """The `auth = ...` value, laid out as ruff formats it (calls with several arguments keep a trailing comma)."""
    calls = []
    for kind in kinds:
        cls, args, _ = _SCHEMES[kind]
        rendered = [(name, value.replace("{title}", title)) for name, value in args]
        inline = f"{cls}({', '.join(f'{name}={value}' for name, value in rendered)})"
        if len(rendered) == 1 and len(inline) + 10 <= _LINE:
            calls.append(inline)
        else:
            body = "".join(f"            {name}={value},\n" for name, value in rendered)
            calls.append(f"{cls}(\n{body}        )")
    if len(calls) == 1 and "\n" not in calls[0] and len(calls[0]) + 14 <= _LINE:
        return f"({calls[0]},)"
    return "(\n" + "".join(f"        {call},\n" for call in calls) + "    )"


def _expected_auth(kind: str) -> str:
    if kind in _TOKEN_KINDS:
        return '"authorization", f"Bearer {token}"'
    if kind == "api_key":
        return '"x-api-key", token'
    # call_tool's fake Basic credential has the account "test-user".
    return '"authorization", "Basic " + base64.b64encode(f"test-user:{token}".encode()).decode()'


def _description_path(made: ConnectorPlan) -> str:
    if made.description is None:
        return 'Path(__file__).resolve().parent / "openapi.json"'
    name = made.description.name.removesuffix(".gz")
    return f'Path(__file__).resolve().parents[2] / "specs" / "{made.id}" / "{name}"'


def description_note(made: ConnectorPlan) -> str:
    if made.description is None:
        return (
            "`tests/openapi.json` is an example description of the two example tools, made by the scaffold.\n"
            f"Replace it with the vendor's: copy it to `specs/{made.id}/` at the repository root, record its\n"
            "source, version, license and checksum in `specs/README.md`, and point `DESCRIPTION` at it."
        )
    return (
        f"`specs/{made.id}/{made.description.name}` is the vendor's description, kept in the repository with its\n"
        "source, version, license and checksum recorded in `specs/README.md`."
    )
