"""Configured upstream URLs cannot send a tenant's token somewhere unsafe."""

from __future__ import annotations

import pytest

from sagemcp import validate_api_url
from sagemcp.platform import ALLOW_LOOPBACK_ENV


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://api.github.com/", "https://api.github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3"),
    ],
)
def test_accepted(url: str, normalised: str) -> None:
    assert validate_api_url(url, example="https://api.example") == normalised


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/api/", "http://localhost:9000/api"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_loopback_only_when_the_operator_allows_it(url: str, normalised: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_LOOPBACK_ENV, raising=False)
    with pytest.raises(ValueError, match="this machine"):
        validate_api_url(url, example="https://api.example")
    monkeypatch.setenv(ALLOW_LOOPBACK_ENV, "1")
    assert validate_api_url(url, example="https://api.example") == normalised


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://api.example", "absolute https URL"),
        ("http://api.example", "must use https"),
        ("https://user:pw@api.example", "user name or password"),
        ("https://api.example/?token=1", "query string"),
        ("https://10.0.0.5", "non-public address 10.0.0.5"),
        ("https://169.254.169.254/latest/meta-data", "non-public address 169.254.169.254"),
        ("https://192.168.1.1", "non-public"),
        ("https://0.0.0.0", "non-public"),
        ("https://api.example/a/../b", "'..'"),
        ("https://api.example:99999", "not a valid URL"),
        ("https://0xa9fea9fe/", "non-public address 169.254.169.254"),
        ("https://2852039166/", "non-public address 169.254.169.254"),
        ("https://169.254.43518/", "non-public address 169.254.169.254"),
        ("https://10.1/", "non-public address 10.0.0.1"),
        ("https://100.64.0.1/", "non-public"),
        ("https://ghe.example/api/%2e%2e/admin", "'..'"),
    ],
)
def test_refused(url: str, reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_LOOPBACK_ENV, raising=False)
    with pytest.raises(ValueError, match=reason):
        validate_api_url(url, example="https://api.example")


@pytest.mark.parametrize(
    "url", ["https://0177.0.0.1/", "https://127.1/", "https://localhost./", "http://localhost:5432/"]
)
def test_loopback_spellings_are_loopback(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_LOOPBACK_ENV, raising=False)
    with pytest.raises(ValueError, match="this machine"):
        validate_api_url(url, example="https://api.example")
