"""Building the image with buildah and running it with podman, where this machine allows it.

Both run as root with the vfs storage driver (no overlay mounts needed) and buildah's chroot isolation. The base
image (`python:3.11-slim-bookworm`) comes from a registry when `SAGEMCP_IMAGE_BASE` names one that is reachable.
Otherwise a stand-in is made from Debian's own packages: debootstrap bookworm (CPython 3.11, as in the official
image) with this machine's CA certificates, so that pip inside the build trusts what pip outside it trusts.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ._tools import ROOT

STORAGE = ("--storage-driver", "vfs")
STAND_IN = "localhost/sagemcp-build-base:bookworm"
IMAGE = f"localhost/sagemcp:test-{os.getpid()}"
"""Per run, so that two runs on one machine do not remove each other's image."""
DEBIAN_MIRROR = "http://deb.debian.org/debian"


def builder_problem() -> str | None:
    """None when an image can be built here, else what is missing."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "building needs root (buildah with the vfs driver and chroot isolation)"
    if shutil.which("buildah") is None:
        return "buildah is not installed (apt-get install buildah)"
    if not os.environ.get("SAGEMCP_IMAGE_BASE") and shutil.which("debootstrap") is None:
        return "no base image: set SAGEMCP_IMAGE_BASE to a reachable python:3.11-slim-bookworm, or apt-get install debootstrap"
    return None


def runner_problem() -> str | None:
    """None when a built image can be run here, else what is missing."""
    if shutil.which("podman") is None:
        return "podman is not installed (apt-get install podman runc)"
    return None


def _run(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args[:3])} ... failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def buildah(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run("buildah", *STORAGE, *args, timeout=timeout, check=check)


def _exists(image: str) -> bool:
    return buildah("inspect", "--type", "image", image, check=False).returncode == 0


def base_image() -> str:
    """The image both stages build FROM: the named one, or the Debian stand-in (made once per machine)."""
    named = os.environ.get("SAGEMCP_IMAGE_BASE")
    if named:
        return named
    if _exists(STAND_IN):
        return STAND_IN
    with tempfile.TemporaryDirectory(prefix="sagemcp-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(
            "debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
            "bookworm", str(rootfs), DEBIAN_MIRROR, timeout=900,
        )  # fmt: skip
        host_ca = Path("/etc/ssl/certs/ca-certificates.crt")
        if host_ca.exists():
            shutil.copy(host_ca, rootfs / "etc" / "ssl" / "certs" / "ca-certificates.crt")
            (rootfs / "etc" / "pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".")
        shutil.rmtree(rootfs, ignore_errors=True)
        work = buildah("from", "scratch").stdout.strip()
        try:
            buildah("add", work, str(archive), "/")
            buildah("config", "--env", "LANG=C.UTF-8", "--cmd", "python3", work)
            buildah("commit", "--quiet", work, STAND_IN)
        finally:
            buildah("rm", work, check=False)
    return STAND_IN


def build(tag: str = IMAGE) -> str:
    """Build the repository's Dockerfile (docker format, which keeps HEALTHCHECK); returns the build log."""
    result = buildah(
        "bud", "--isolation", "chroot", "--format", "docker",
        "--build-arg", f"BASE_IMAGE={base_image()}", "--build-arg", "REVISION=test",
        "--tag", tag, str(ROOT), timeout=1800,
    )  # fmt: skip
    return result.stdout + result.stderr


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    # crun refuses this machine's hybrid cgroup layout where runc accepts it; limits no higher than ours,
    # since podman's defaults exceed what an unprivileged sandbox may set.
    runtime = ("--runtime", "runc") if shutil.which("runc") else ()
    return _run("podman", *STORAGE, *runtime, *args, timeout=timeout, check=check)


def _limits() -> list[str]:
    flags = []
    for name, limit in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        soft, _ = resource.getrlimit(limit)
        if soft != resource.RLIM_INFINITY:
            value = min(soft, 16384)  # some sandboxes refuse an nproc limit at or above pid_max (32768)
            flags += ["--ulimit", f"{name}={value}:{value}"]
    return flags


@dataclass
class Container:
    name: str
    port: int
    volumes: list[str] = field(default_factory=list)

    def exec(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return podman("exec", self.name, *args, check=check)

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr


@contextlib.contextmanager
def container(
    name: str,
    port: int,
    *args: str,
    env: dict[str, str] | None = None,
    mounts: tuple[str, ...] = (),
) -> Iterator[Container]:
    """The image running with a read-only root filesystem, on the host's network (reached on 127.0.0.1)."""
    volume = f"{name}-data"
    flags = ["--name", name, "--network", "host", "--read-only", "--tmpfs", "/tmp", "-v", f"{volume}:/data"]
    for mount in mounts:
        flags += ["-v", mount]
    for key, value in {"SAGEMCP_PORT": str(port), **(env or {})}.items():
        flags += ["-e", f"{key}={value}"]
    podman("rm", "--force", name, check=False)
    try:
        podman("run", "--detach", *_limits(), *flags, IMAGE, *args, timeout=300)
        yield Container(name, port, [volume])
    finally:
        podman("rm", "--force", "--time", "20", name, check=False, timeout=60)
        podman("volume", "rm", "--force", volume, check=False)


def run_once(
    *args: str, env: dict[str, str] | None = None, mounts: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """The image run to completion (a one-shot command such as `db upgrade`), read-only as in production."""
    flags = ["--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp"]
    for mount in mounts:
        flags += ["-v", mount]
    for key, value in (env or {}).items():
        flags += ["-e", f"{key}={value}"]
    return podman("run", *_limits(), *flags, IMAGE, *args, timeout=300, check=False)
