"""Validation of the GitHub API base URL (github.com, GHE.com or a GitHub Enterprise Server).

The strict rules (https, no credentials, no private addresses, loopback only for
development) are core's `sagemcp._urls.validate_api_url`.
"""

from __future__ import annotations

from sagemcp import validate_api_url as _validate

__all__ = ["DEFAULT_API_URL", "validate_api_url"]

DEFAULT_API_URL = "https://api.github.com"


def validate_api_url(value: str) -> str:
    """`value` normalised (no trailing slash), or `ValueError` saying what is wrong with it."""
    return _validate(
        value,
        example="https://api.github.com or https://HOST/api/v3",
        private_hint=": use the GitHub Enterprise Server's host name",
    )
