"""`new_id` gives what `uuid.uuid4().hex` gives: 32 hex digits of a version-4, RFC 4122 UUID, random each time."""

from __future__ import annotations

import uuid

from sagemcp._models import new_id


def test_new_id_is_a_uuid4_hex() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value and len(value) == 32
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # The random bits do vary: the version digit is fixed, the variant digit one of four, every other one free.
    for position in range(32):
        seen = {value[position] for value in ids}
        expected = {"4"} if position == 12 else set("89ab") if position == 16 else set("0123456789abcdef")
        assert seen == expected, position
