"""A shared vcrpy configuration whose cassettes never hold a secret.

`vcr_config(cassette_dir)` records new cassettes locally ("once") and only replays
in CI (env `CI` set: "none"), matching on method, scheme, host, path and query.
Before anything is written, `scrub_request` and `scrub_response` replace with
"REDACTED": credential headers (Authorization, Cookie, Set-Cookie, X-Api-Key and any
header named like a token, secret, key or auth), secret query parameters, secret
fields of form and JSON bodies (at any depth), and any string that looks like a
known token format anywhere in a body (`scrub_text`).

Replacing values rather than dropping them keeps query matching working: vcrpy
scrubs the live request with the same function before comparing it to the cassette.
"""

from __future__ import annotations

import copy
import json
import os
import re
from os import PathLike
from typing import Any
from urllib.parse import quote_plus, unquote_plus, urlsplit, urlunsplit

import vcr
from vcr.request import Request

__all__ = [
    "MATCH_ON",
    "REDACTED",
    "is_secret_header",
    "scrub_request",
    "scrub_response",
    "scrub_text",
    "vcr_config",
]

REDACTED = "REDACTED"
MATCH_ON = ("method", "scheme", "host", "path", "query")

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
_SECRET_HEADER_PARTS = ("token", "secret", "key", "auth", "cookie", "password", "session", "signature")
# Named like credentials but carry none; kept because tests assert on them (missing-scope hints).
_PUBLIC_HEADERS = frozenset({"x-oauth-scopes", "x-accepted-oauth-scopes", "www-authenticate", "x-oauth-client-id"})
# Compared after lowercasing and dropping "_" and "-", so access_token, accessToken and access-token are one name.
_SECRET_QUERY = frozenset(
    {
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "clientsecret",
        "clientassertion",
        "code",
        "key",
        "apikey",
        "password",
        "signature",
        "sig",
        "xamzsignature",
        "xamzsecuritytoken",
        "xgoogsignature",
        "xgoogcredential",
    }
)
_SECRET_FIELDS = frozenset(
    {
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "clientsecret",
        "clientassertion",
        "code",
        "apikey",
        "password",
        "secret",
        "privatekey",
        "sessiontoken",
        "authtoken",
        "bottoken",
    }
)
# In JSON, `code` is usually an error code ("missing_field", "NOT_FOUND"); only those are kept.
_ERROR_CODE_RE = re.compile(r"^(?:[a-z]+(?:_[a-z]+)*|[A-Z]+(?:_[A-Z]+)*)$")
_TOKEN_PATTERNS = [
    r"\bgh[pousr]_[A-Za-z0-9]{8,}",  # GitHub PAT, OAuth, user-to-server, server-to-server, refresh
    r"\bgithub_pat_[A-Za-z0-9_]{8,}",  # GitHub fine-grained PAT
    r"\bxox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{4,}",  # Slack bot/user/app/refresh tokens (xoxe.xoxp-...)
    r"\bya29\.[A-Za-z0-9._-]{8,}",  # Google access token
    r"(?<![A-Za-z0-9/])1//[A-Za-z0-9_-]{16,}",  # Google refresh token
    r"\bsecret_[A-Za-z0-9]{16,}",  # Notion internal integration token (legacy)
    r"\bntn_[A-Za-z0-9]{16,}",  # Notion token
    r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",  # JWT (id tokens, Zoom/Atlassian tokens)
    r"(?<=Bearer )[A-Za-z0-9._~+/-]{8,}=*",  # whatever follows "Bearer " in a body or header echo
]
_TOKEN_RE = re.compile("|".join(f"(?:{p})" for p in _TOKEN_PATTERNS))


def vcr_config(
    cassette_dir: str | PathLike[str],
    *,
    record_mode: str | None = None,
    **options: Any,
) -> vcr.VCR:
    """A `vcr.VCR` storing YAML cassettes in `cassette_dir`, scrubbed of secrets.

    `record_mode` defaults to "none" in CI (env `CI` set and not "0"/"false") and
    "once" elsewhere. Extra `options` go to `vcr.VCR` unchanged.
    """
    if record_mode is None:
        record_mode = "none" if _in_ci() else "once"
    return vcr.VCR(
        cassette_library_dir=os.fspath(cassette_dir),
        record_mode=record_mode,
        match_on=MATCH_ON,
        decode_compressed_response=True,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        path_transformer=vcr.VCR.ensure_suffix(".yaml"),
        **options,
    )


def scrub_text(text: str) -> str:
    """`text` with every string that looks like a known token format replaced by "REDACTED"."""
    return _TOKEN_RE.sub(REDACTED, text)


def is_secret_header(name: str) -> bool:
    """Whether a header of this name carries a credential (and is recorded as "REDACTED")."""
    lowered = name.lower()
    if lowered in _PUBLIC_HEADERS:
        return False
    return lowered in _SECRET_HEADERS or any(part in lowered for part in _SECRET_HEADER_PARTS)


def scrub_request(request: Request) -> Request:
    """A copy of a vcrpy request with secret headers, query parameters and body fields redacted."""
    request = copy.deepcopy(request)
    request.uri = _scrub_url(request.uri)
    content_type = ""
    for name in list(request.headers):
        value = request.headers[name]
        if name.lower() == "content-type":
            content_type = str(value)
        if is_secret_header(name):
            request.headers[name] = REDACTED
        elif isinstance(value, str):
            request.headers[name] = scrub_text(value)
    body = request.body
    if isinstance(body, bytes | str):
        request.body = _scrub_body(body.encode("utf-8") if isinstance(body, str) else body, content_type)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """A copy of a vcrpy response dict with secret headers and body content redacted."""
    response = copy.deepcopy(response)
    headers: dict[str, Any] = response.get("headers") or {}
    content_type = ""
    for name, values in list(headers.items()):
        items = list(values) if isinstance(values, list | tuple) else [values]
        lowered = name.lower()
        if lowered == "content-type" and items:
            content_type = str(items[0])
        if is_secret_header(name):
            headers[name] = [REDACTED for _ in items]
        elif lowered in ("location", "content-location"):
            headers[name] = [_scrub_url(str(v)) for v in items]
        else:
            headers[name] = [scrub_text(v) if isinstance(v, str) else v for v in items]
    body = response.get("body")
    if isinstance(body, dict) and isinstance(body.get("string"), bytes | str):
        raw = body["string"]
        scrubbed = _scrub_body(raw.encode("utf-8") if isinstance(raw, str) else raw, content_type)
        if scrubbed != raw:
            body["string"] = scrubbed.decode("utf-8") if isinstance(raw, str) else scrubbed
            _fix_content_length(headers, len(scrubbed))
    return response


# -- helpers ----------------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _scrub_pairs(encoded: str, secret_names: frozenset[str]) -> str:
    """A `k=v&k=v` string with secret values redacted; untouched pairs are kept byte for byte."""
    parts = []
    for part in encoded.split("&"):
        name, sep, value = part.partition("=")
        plain = unquote_plus(value)
        if sep and _norm(unquote_plus(name)) in secret_names:
            part = f"{name}={REDACTED}"
        elif sep and scrub_text(plain) != plain:
            part = f"{name}={quote_plus(scrub_text(plain))}"
        parts.append(part)
    return "&".join(parts)


def _scrub_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    return urlunsplit(parts._replace(query=_scrub_pairs(parts.query, _SECRET_QUERY)))


def _scrub_body(body: bytes, content_type: str) -> bytes:
    if not body:
        return body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body  # binary content: nothing we can recognise
    media = content_type.split(";")[0].strip().lower()
    stripped = text.lstrip()
    if "json" in media or (not media and stripped[:1] in ("{", "[")):
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:
            cleaned = _scrub_json(data)
            if cleaned == data:
                return body
            return json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if media == "application/x-www-form-urlencoded" or (not media and _looks_like_form(text)):
        return _scrub_pairs(text, _SECRET_FIELDS).encode("utf-8")
    return scrub_text(text).encode("utf-8")


def _looks_like_form(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_.\-\[\]%]+=[^\s&]*(?:&[A-Za-z0-9_.\-\[\]%]+=[^\s&]*)*", text))


def _scrub_json(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = _norm(str(key))
            if name in _SECRET_FIELDS and isinstance(item, str):
                keep = name == "code" and _ERROR_CODE_RE.match(item)
                out[key] = item if keep else REDACTED
            else:
                out[key] = _scrub_json(item)
        return out
    if isinstance(value, list):
        return [_scrub_json(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def _fix_content_length(headers: dict[str, Any], length: int) -> None:
    for name in headers:
        if name.lower() == "content-length":
            headers[name] = [str(length)]
