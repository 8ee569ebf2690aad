"""Each package's version lives in its pyproject.toml only; everything that reports one reads it from there."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import sagemcp
import sagemcp_github
import sagemcp_server
import sagemcp_slack
from sagemcp.mcp import McpSettings
from sagemcp_github import GitHubConnector
from sagemcp_server.connectors.demo import DemoConnector
from sagemcp_slack import SlackConnector

ROOT = Path(__file__).resolve().parents[1]


def declared(package: str) -> str:
    return str(tomllib.loads((ROOT / package / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


@pytest.mark.parametrize(
    ("package", "reported"),
    [
        ("sagemcp-core", lambda: sagemcp.__version__),
        ("sagemcp-core", lambda: McpSettings().server_version),
        ("sagemcp-server", lambda: sagemcp_server.__version__),
        ("sagemcp-server", lambda: DemoConnector.info.version),
        ("sagemcp-connector-github", lambda: sagemcp_github.__version__),
        ("sagemcp-connector-github", lambda: GitHubConnector.info.version),
        ("sagemcp-connector-slack", lambda: sagemcp_slack.__version__),
        ("sagemcp-connector-slack", lambda: SlackConnector.info.version),
    ],
)
def test_reported_versions_are_the_pyproject_version(package: str, reported) -> None:
    # The installed metadata lags pyproject.toml until the package is reinstalled (`pip install -e`).
    assert version(package) == declared(package), f"reinstall {package}: its metadata is older than pyproject.toml"
    assert reported() == declared(package)


def test_no_source_file_spells_out_its_package_version() -> None:
    offenders = []
    for package in ("sagemcp-core", "sagemcp-server", "sagemcp-connector-github", "sagemcp-connector-slack"):
        literal = re.compile(r"""["']""" + re.escape(declared(package)) + r"""["']""")
        for path in sorted((ROOT / package / "src").rglob("*.py")):
            if literal.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "read the version with importlib.metadata.version(<distribution>) instead"
