"""A banner at the end of the run when the image could not be built or run here, so that a skip is not missed."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "test_image.py" in getattr(r, "nodeid", "")]
    if not skipped:
        return
    reasons = sorted({str(r.longrepr[2]) if isinstance(r.longrepr, tuple) else str(r.longrepr) for r in skipped})
    terminalreporter.write_sep("!", "CONTAINER IMAGE NOT CHECKED", red=True, bold=True)
    for reason in reasons:
        terminalreporter.write_line(f"  {reason}", red=True)
    terminalreporter.write_line("  the Dockerfile was linted; the image was not built or not run on this machine")
