from __future__ import annotations

import hashlib
import re

import pytest

from sagemcp.platform import api_key_matches, generate_api_key, hash_api_key


def test_generated_key_shape() -> None:
    raw, key_hash, prefix = generate_api_key()
    assert re.fullmatch(r"smcp_[A-Za-z0-9_-]{43}", raw)
    assert key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert prefix == raw[:12]
    assert prefix.startswith("smcp_")


def test_keys_are_unique() -> None:
    raws = {generate_api_key()[0] for _ in range(100)}
    assert len(raws) == 100


def test_custom_prefix() -> None:
    raw, _, prefix = generate_api_key("acme")
    assert raw.startswith("acme_")
    assert prefix == raw[:12]


@pytest.mark.parametrize("prefix", ["", "Bad", "has_underscore", "x" * 17, "1abc"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError):
        generate_api_key(prefix)


def test_hash_is_stable_and_matches() -> None:
    raw, key_hash, _ = generate_api_key()
    assert hash_api_key(raw) == key_hash
    assert api_key_matches(raw, key_hash)
    assert not api_key_matches(raw + "x", key_hash)
    assert not api_key_matches(generate_api_key()[0], key_hash)
