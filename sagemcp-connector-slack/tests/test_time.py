"""Slack timestamps, windows and the times people write."""

from __future__ import annotations

import pytest

from sagemcp.errors import InvalidArguments
from sagemcp_slack._time import parse_time, parse_window, search_date, ts_to_iso, unix_seconds

NOW = 1_714_564_800.0  # 2024-05-01T12:00:00Z


@pytest.mark.parametrize(
    ("window", "seconds"),
    [("30m", 1800), ("12h", 43200), ("1d", 86400), ("7d", 7 * 86400), ("30d", 30 * 86400), ("2w", 14 * 86400)],
)
def test_windows(window: str, seconds: int) -> None:
    assert parse_window(window, now=NOW) == f"{NOW - seconds:.6f}"


@pytest.mark.parametrize("window", ["", "7", "d", "0d", "7 d", "1y", "-1d", "99999d"])
def test_bad_windows(window: str) -> None:
    with pytest.raises(InvalidArguments):
        parse_window(window, now=NOW)


def test_times() -> None:
    assert parse_time("1714564800.000100", "t") == "1714564800.000100"
    assert parse_time("1714564800", "t") == "1714564800.000000"
    assert parse_time("2024-05-01", "t") == "1714521600.000000"
    assert parse_time("2024-05-01T12:00:00Z", "t") == "1714564800.000000"
    assert parse_time("2024-05-01T14:00:00+02:00", "t") == "1714564800.000000"
    assert parse_time("2024-05-01T12:00:00", "t") == "1714564800.000000"  # naive means UTC
    assert unix_seconds("2024-05-01T12:00:00Z", "t") == 1714564800
    with pytest.raises(InvalidArguments, match="not a time"):
        parse_time("next tuesday", "oldest")


def test_formatting() -> None:
    assert ts_to_iso("1714564800.000100") == "2024-05-01T12:00:00Z"
    assert ts_to_iso(1714564800) == "2024-05-01T12:00:00Z"
    assert ts_to_iso(None) is None
    assert ts_to_iso("soon") is None
    assert search_date("1714564800.000000", days_before=1) == "2024-04-30"
