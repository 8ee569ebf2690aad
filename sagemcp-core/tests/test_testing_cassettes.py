"""Cassette scrubbing: no secret survives into a cassette, and scrubbed cassettes still replay."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from vcr.request import Request

from sagemcp.testing import scrub_request, scrub_response, scrub_text, vcr_config
from sagemcp.testing.cassettes import MATCH_ON, REDACTED, is_secret_header

GITHUB_PAT = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GITHUB_OAUTH = "gho_" + "16C7e42F292c6912E7710c838347Ae178B4a"
GITHUB_FINE = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_USER = "xoxp-" + "123456789012-123456789012-1234567890123-0123456789abcdef0123456789abcdef"
SLACK_REFRESH = "xoxe-1-" + "My0xLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkwMTIzLWFiY2RlZg"
GOOGLE = "ya29." + "a0AfH6SMBx3kq9vZ-example_Token.value"
NOTION_LEGACY = "secret_" + "Zx8Qp3Lm9Rt2Vw7Yb4Nc6Jd1Kf5Gh0Sa2Ue"
NOTION = "ntn_" + "4567890123456Abcdefghijklmnopqrstuvwxyz0123"
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
OPAQUE = "s3cr3t-opaque-value-9f8e7d"
TOKENS = [
    GITHUB_PAT,
    GITHUB_OAUTH,
    GITHUB_FINE,
    SLACK_BOT,
    SLACK_USER,
    SLACK_REFRESH,
    GOOGLE,
    NOTION_LEGACY,
    NOTION,
    JWT,
]


@pytest.mark.parametrize("token", TOKENS)
def test_scrub_text_removes_known_token_formats(token: str) -> None:
    scrubbed = scrub_text(f"token={token}, then more text")
    assert token not in scrubbed
    assert token[6:] not in scrubbed
    assert scrubbed.endswith(", then more text")


def test_scrub_text_keeps_ordinary_text() -> None:
    text = "The secret_santa list is in ghp_ notes; Bearer tokens expire; xoxo"
    assert scrub_text(text) == text
    assert scrub_text(f"Authorization: Bearer {OPAQUE}") == f"Authorization: Bearer {REDACTED}"


def test_secret_header_names() -> None:
    for name in ("Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Auth-Token", "Private-Token", "X-Secret"):
        assert is_secret_header(name), name
    for name in ("Content-Type", "X-OAuth-Scopes", "X-Accepted-OAuth-Scopes", "X-RateLimit-Remaining", "Link"):
        assert not is_secret_header(name), name


def test_scrub_request_headers_query_and_form_body() -> None:
    request = Request(
        "POST",
        f"https://api.example.com/oauth/token?access_token={OPAQUE}1&code={OPAQUE}2&page=2&api_key={OPAQUE}3"
        f"&signature={OPAQUE}4&refresh_token={OPAQUE}5&client_secret={OPAQUE}6&key={OPAQUE}7&q=is%3Aopen",
        f"grant_type=authorization_code&code={OPAQUE}8&client_secret={OPAQUE}9&redirect_uri=https%3A%2F%2Fx",
        {
            "Authorization": f"Bearer {OPAQUE}a",
            "Cookie": f"session={OPAQUE}b",
            "X-Api-Key": f"{OPAQUE}c",
            "X-Custom-Token": f"{OPAQUE}d",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )
    scrubbed = scrub_request(request)
    serialized = json.dumps(scrubbed._to_dict(), default=lambda b: b.decode())
    assert OPAQUE not in serialized
    assert scrubbed.headers["Authorization"] == REDACTED
    assert scrubbed.headers["Accept"] == "application/json"
    query = parse_qs(urlsplit(scrubbed.uri).query)
    assert query["page"] == ["2"] and query["q"] == ["is:open"]
    assert query["access_token"] == [REDACTED] and query["key"] == [REDACTED]
    body = parse_qs(scrubbed.body.decode())
    assert body["grant_type"] == ["authorization_code"] and body["redirect_uri"] == ["https://x"]
    assert body["code"] == [REDACTED] and body["client_secret"] == [REDACTED]
    # the original is untouched: vcrpy may still send it
    assert request.headers["Authorization"] == f"Bearer {OPAQUE}a"


def test_scrub_request_json_body_recursively() -> None:
    payload = {
        "name": "keep me",
        "password": OPAQUE,
        "nested": {"clientSecret": OPAQUE + "x", "list": [{"id_token": OPAQUE + "y"}, {"note": f"use {SLACK_BOT}"}]},
        "refresh-token": OPAQUE + "z",
    }
    request = Request("POST", "https://api.example.com/x", json.dumps(payload), {"Content-Type": "application/json"})
    body = json.loads(scrub_request(request).body)
    assert OPAQUE not in json.dumps(body) and SLACK_BOT not in json.dumps(body)
    assert body["name"] == "keep me"
    assert body["nested"]["list"][1]["note"] == f"use {REDACTED}"
    assert body["nested"]["clientSecret"] == REDACTED


def test_scrub_response_headers_and_json_body() -> None:
    body = {
        "ok": True,
        "access_token": SLACK_BOT,
        "refresh_token": SLACK_REFRESH,
        "authed_user": {"id": "U1", "access_token": SLACK_USER},
        "errors": [{"resource": "Issue", "field": "title", "code": "missing_field"}],
        "description": f"created with {GITHUB_PAT}",
    }
    raw = json.dumps(body).encode()
    response: dict[str, Any] = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Content-Type": ["application/json; charset=utf-8"],
            "Content-Length": [str(len(raw))],
            "Set-Cookie": [f"sid={OPAQUE}; HttpOnly", f"other={OPAQUE}2"],
            "X-OAuth-Scopes": ["repo, read:org"],
            "Location": [f"https://app.example.com/callback?code={OPAQUE}3&state=abc"],
        },
        "body": {"string": raw},
    }
    scrubbed = scrub_response(response)
    text = json.dumps(scrubbed, default=lambda b: b.decode())
    for secret in (SLACK_BOT, SLACK_REFRESH, SLACK_USER, GITHUB_PAT, OPAQUE):
        assert secret not in text
    assert scrubbed["headers"]["Set-Cookie"] == [REDACTED, REDACTED]
    assert scrubbed["headers"]["X-OAuth-Scopes"] == ["repo, read:org"]
    assert scrubbed["headers"]["Location"] == [f"https://app.example.com/callback?code={REDACTED}&state=abc"]
    data = json.loads(scrubbed["body"]["string"])
    assert data["errors"][0]["code"] == "missing_field"  # an error code, not an OAuth code
    assert data["authed_user"] == {"id": "U1", "access_token": REDACTED}
    assert scrubbed["headers"]["Content-Length"] == [str(len(scrubbed["body"]["string"]))]
    assert response["body"]["string"] == raw  # not mutated


def test_vcr_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    local = vcr_config(tmp_path)
    assert local.record_mode == "once"
    assert tuple(local.match_on) == MATCH_ON == ("method", "scheme", "host", "path", "query")
    assert local.decode_compressed_response is True
    assert local.cassette_library_dir == str(tmp_path)
    monkeypatch.setenv("CI", "true")
    assert vcr_config(tmp_path).record_mode == "none"
    monkeypatch.setenv("CI", "false")
    assert vcr_config(tmp_path).record_mode == "once"
    assert vcr_config(tmp_path, record_mode="all").record_mode == "all"


class _Handler(BaseHTTPRequestHandler):
    """Answers like an OAuth token endpoint that also sets a session cookie, gzip-compressed."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        body = json.dumps(
            {"access_token": GITHUB_OAUTH, "scope": "repo", "code": form.get("code", [""])[0], "jwt": JWT}
        ).encode()
        compressed = gzip.compress(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(compressed)))
        self.send_header("Set-Cookie", f"session={OPAQUE}; Path=/")
        self.end_headers()
        self.wfile.write(compressed)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _exchange(base: str) -> httpx.Response:
    with httpx.Client(base_url=base) as client:
        return client.post(
            f"/login/oauth/access_token?client_secret={OPAQUE}q",
            data={"client_id": "abc", "client_secret": OPAQUE + "f", "code": "7f1c2d3e4b5a69788796"},
            headers={"Authorization": f"token {GITHUB_PAT}", "Accept": "application/json"},
        )


def test_record_then_replay_without_secrets(
    server: ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with vcr_config(tmp_path).use_cassette("token_exchange") as cassette:
        live = _exchange(base)
    assert live.json()["access_token"] == GITHUB_OAUTH  # the test itself saw the real answer
    assert cassette.play_count == 0 and len(cassette) == 1

    text = (tmp_path / "token_exchange.yaml").read_text()
    for secret in (OPAQUE, GITHUB_PAT, GITHUB_OAUTH, JWT, "7f1c2d3e4b5a69788796"):
        assert secret not in text
    assert "REDACTED" in text and "content-encoding" not in text and '"scope":"repo"' in text

    server.shutdown()  # nothing answers any more: the replay comes from the cassette
    monkeypatch.setenv("CI", "1")
    with vcr_config(tmp_path).use_cassette("token_exchange") as cassette:
        replayed = _exchange(base)
    assert cassette.play_count == 1
    assert replayed.status_code == 200
    assert replayed.json() == {"access_token": REDACTED, "scope": "repo", "code": REDACTED, "jwt": REDACTED}
    assert replayed.headers["set-cookie"] == REDACTED
