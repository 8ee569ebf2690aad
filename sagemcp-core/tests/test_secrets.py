from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sagemcp.errors import CryptoError
from sagemcp.platform import SecretBox

KEY_A = SecretBox.generate_key()
KEY_B = SecretBox.generate_key()
SECRET = "gho_super-secret-token-value"


def _kid(key: str) -> str:
    return hashlib.sha256(base64.urlsafe_b64decode(key)).hexdigest()[:8]


def test_generate_key_is_32_random_bytes() -> None:
    keys = {SecretBox.generate_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(base64.urlsafe_b64decode(k)) == 32 for k in keys)


def test_round_trip_and_token_format() -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt(SECRET, context="credential:1:access_token")
    version, kid, data = token.split(".")
    assert (version, kid) == ("v1", _kid(KEY_A))
    assert SECRET not in token
    assert len(base64.urlsafe_b64decode(data + "==")) == 12 + len(SECRET) + 16
    assert box.decrypt(token, context="credential:1:access_token") == SECRET


def test_nonce_is_random() -> None:
    box = SecretBox([KEY_A])
    assert box.encrypt(SECRET) != box.encrypt(SECRET)


def test_rotation_keeps_old_tokens_readable_and_rotate_moves_them_to_the_new_key() -> None:
    old_box = SecretBox([KEY_A])
    old_token = old_box.encrypt(SECRET, context="c")

    ring = SecretBox([KEY_B, KEY_A])
    assert ring.needs_rotation(old_token)
    assert ring.decrypt(old_token, context="c") == SECRET
    rotated = ring.rotate(old_token, context="c")
    assert rotated.split(".")[1] == _kid(KEY_B)
    assert not ring.needs_rotation(rotated)
    assert ring.rotate(rotated, context="c") == rotated

    new_only = SecretBox([KEY_B])
    assert new_only.decrypt(rotated, context="c") == SECRET
    with pytest.raises(CryptoError) as info:
        new_only.decrypt(old_token, context="c")
    assert _kid(KEY_A) in str(info.value)
    assert "not in the key ring" in str(info.value)


def test_new_tokens_use_the_first_key() -> None:
    ring = SecretBox([KEY_B, KEY_A])
    assert ring.key_ids == (_kid(KEY_B), _kid(KEY_A))
    assert ring.encrypt(SECRET).split(".")[1] == _kid(KEY_B)


def test_tampered_token_is_refused() -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt(SECRET, context="c")
    version, kid, data = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    raw[-1] ^= 1
    tampered = f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    with pytest.raises(CryptoError) as info:
        box.decrypt(tampered, context="c")
    message = str(info.value)
    assert SECRET not in message
    assert KEY_A not in message


def test_wrong_context_is_refused() -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt(SECRET, context="credential:1:access_token")
    with pytest.raises(CryptoError) as info:
        box.decrypt(token, context="credential:2:access_token")
    assert SECRET not in str(info.value)
    assert KEY_A not in str(info.value)


def test_token_with_forged_key_id_is_refused() -> None:
    ring = SecretBox([KEY_A, KEY_B])
    token = SecretBox([KEY_B]).encrypt(SECRET)
    forged = token.replace(_kid(KEY_B), _kid(KEY_A), 1)
    with pytest.raises(CryptoError):
        ring.decrypt(forged)


def test_wrong_key_is_refused() -> None:
    token = SecretBox([KEY_A]).encrypt(SECRET)
    with pytest.raises(CryptoError) as info:
        SecretBox([KEY_B]).decrypt(token)
    assert SECRET not in str(info.value)
    assert KEY_A not in str(info.value)
    assert KEY_B not in str(info.value)


@pytest.mark.parametrize(
    "token", ["", "plain text", "v2.abcdefgh.AAAA", "v1.abcdefgh", "v1.abc.AAAA", "v1.abcdefgh.!!"]
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(CryptoError):
        SecretBox([KEY_A]).decrypt(token)


def test_truncated_token_is_refused() -> None:
    token = SecretBox([KEY_A]).encrypt(SECRET)
    with pytest.raises(CryptoError):
        SecretBox([KEY_A]).decrypt(token[:20])


def test_empty_ring_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="key ring is empty"):
        SecretBox([])
    with pytest.raises(ValueError, match="key ring is empty"):
        SecretBox.from_env_value(" , ")


def test_bad_keys_are_refused_without_echoing_them() -> None:
    short = base64.urlsafe_b64encode(b"x" * 16).decode()
    for bad in (short, "not base64 at all!"):
        with pytest.raises(ValueError) as info:
            SecretBox([KEY_A, bad])
        assert "key 2" in str(info.value)
        assert bad not in str(info.value)
    with pytest.raises(ValueError, match="duplicate"):
        SecretBox([KEY_A, KEY_A])
    with pytest.raises(TypeError):
        SecretBox(KEY_A)


def test_from_env_value_splits_and_strips() -> None:
    box = SecretBox.from_env_value(f" {KEY_B} ,{KEY_A},")
    assert box.key_ids == (_kid(KEY_B), _kid(KEY_A))
    assert box.decrypt(SecretBox([KEY_A]).encrypt(SECRET)) == SECRET


def test_unpadded_keys_are_accepted() -> None:
    assert SecretBox([KEY_A.rstrip("=")]).key_ids == (_kid(KEY_A),)


def test_repr_shows_no_key() -> None:
    text = repr(SecretBox([KEY_A, KEY_B]))
    assert KEY_A not in text
    assert KEY_B not in text
    assert _kid(KEY_A) in text


@given(plaintext=st.text(), context=st.text())
def test_round_trip_property(plaintext: str, context: str) -> None:
    box = SecretBox([KEY_A, KEY_B])
    token = box.encrypt(plaintext, context=context)
    assert box.decrypt(token, context=context) == plaintext
    with pytest.raises(CryptoError):
        box.decrypt(token, context=context + "x")


class _Ring:
    """A key source whose ring the test changes, counting how often it is asked."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.changed = False
        self.asked = 0

    def __call__(self) -> list[str] | None:
        self.asked += 1
        if not self.changed:
            return None
        self.changed = False
        return self.keys


def test_a_box_with_a_source_reads_tokens_under_a_key_added_elsewhere() -> None:
    ring = _Ring([KEY_A])
    box = SecretBox([KEY_A], source=ring, check_interval=3600)
    elsewhere = SecretBox([KEY_B, KEY_A])
    token = elsewhere.encrypt(SECRET, context="c")
    ring.keys, ring.changed = [KEY_B, KEY_A], True
    assert box.decrypt(token, context="c") == SECRET  # unknown key id: asked at once, despite the interval
    assert box.key_ids == (_kid(KEY_B), _kid(KEY_A))


def test_a_box_with_a_source_encrypts_under_the_new_first_key_once_due() -> None:
    ring = _Ring([KEY_A])
    box = SecretBox([KEY_A], source=ring, check_interval=0.0)
    ring.keys, ring.changed = [KEY_B, KEY_A], True
    assert box.encrypt(SECRET).split(".")[1] == _kid(KEY_B)


def test_the_source_is_asked_at_most_once_per_interval_before_encrypting() -> None:
    ring = _Ring([KEY_A])
    box = SecretBox([KEY_A], source=ring, check_interval=3600)
    for _ in range(100):
        box.encrypt(SECRET)
    assert ring.asked == 0  # created just now: not due yet
    ring.keys, ring.changed = [KEY_B], True
    assert box.encrypt(SECRET).split(".")[1] == _kid(KEY_A)


def test_an_unknown_key_id_still_fails_clearly_when_the_source_has_no_such_key() -> None:
    box = SecretBox([KEY_A], source=_Ring([KEY_A]), check_interval=0.0)
    foreign = SecretBox([KEY_B]).encrypt(SECRET)
    with pytest.raises(CryptoError, match="not in the key ring"):
        box.decrypt(foreign)


def test_a_bad_ring_from_the_source_is_refused_and_the_current_ring_kept() -> None:
    box = SecretBox([KEY_A])
    with pytest.raises(ValueError):
        box.replace_keys(["not-a-key"])
    assert box.decrypt(box.encrypt(SECRET)) == SECRET
