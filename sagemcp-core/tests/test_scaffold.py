"""`python -m sagemcp.scaffold`: the package it makes has the standard layout, passes ruff and mypy, and its
own tests pass; and the throw-away connector built from it proves the kit's credentials end to end.

The generated tests run in a subprocess with the new package's `src` on `PYTHONPATH`, next to the
`.dist-info` of the wheel hatchling builds from its `pyproject.toml` (so the version and the entry point
resolve as for an installed package, without touching this environment).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from sagemcp.errors import DefinitionError
from sagemcp.scaffold import AUTH_KINDS, create_connector, find_description, plan
from sagemcp.scaffold.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
THROWAWAY = Path(__file__).resolve().parent / "scaffold_throwaway" / "package"
HAS_HATCHLING = importlib.util.find_spec("hatchling") is not None
HAS_RUFF = importlib.util.find_spec("ruff") is not None
HAS_MYPY = importlib.util.find_spec("mypy") is not None
needs_hatchling = pytest.mark.skipif(
    not HAS_HATCHLING, reason='the wheel is built with hatchling: pip install "sagemcp-core[testing]"'
)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def installed(root: Path, site: Path) -> dict[str, str]:
    """An environment in which the package at `root` imports from its source, with its wheel's metadata."""
    wheels = site.parent / f"{site.name}-wheel"
    wheels.mkdir()
    built = run(
        [sys.executable, "-c", "import sys, hatchling.build as b; b.build_wheel(sys.argv[1])", str(wheels)], root
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site, [n for n in archive.namelist() if ".dist-info/" in n])
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(site)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_tests(root: Path, env: dict[str, str]) -> int:
    """Run the package's own test suite; the number of tests that passed (all must pass)."""
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], root, env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    summary = re.search(r"(\d+) passed", result.stdout)
    assert summary is not None, result.stdout
    assert not re.search(r"\d+ (failed|error|skipped)", result.stdout), result.stdout[-2000:]
    return int(summary.group(1))


def check_lint(root: Path, package: str) -> None:
    """ruff check and ruff format with the repository's settings, the new package counted first-party."""
    if not HAS_RUFF:
        return
    first_party = f'lint.isort.known-first-party=["sagemcp", "{package}"]'
    config = ["--config", str(ROOT / "pyproject.toml")]
    lint = run([sys.executable, "-m", "ruff", "check", *config, "--config", first_party, "."], root)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = run([sys.executable, "-m", "ruff", "format", "--check", "--diff", *config, "."], root)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def check_types(root: Path, cache: Path) -> None:
    """mypy --strict (the repository's settings) on the package's `src`."""
    if not HAS_MYPY:
        return
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache)]
    checked = run([*command, "src"], root)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


# -- the command and the layout -----------------------------------------------------------------


def test_the_command_creates_the_standard_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["acme", "--title", "Acme Cloud", "--base-url", "https://api.acme.example/v2/", "--dest", str(tmp_path)]
    )

    assert code == 0
    root = tmp_path / "sagemcp-connector-acme"
    out = capsys.readouterr().out
    assert f"created {root}" in out and "tests/openapi.json" in out
    made = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert made == [
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "src/sagemcp_acme/__init__.py",
        "src/sagemcp_acme/connector.py",
        "src/sagemcp_acme/models.py",
        "src/sagemcp_acme/py.typed",
        "src/sagemcp_acme/tools/__init__.py",
        "src/sagemcp_acme/tools/items.py",
        "tests/acme_cases.py",
        "tests/acme_support.py",
        "tests/conftest.py",
        "tests/openapi.json",
        "tests/test_contract.py",
        "tests/test_docs.py",
        "tests/test_e2e.py",
        "tests/test_tools_items.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["name"] == "sagemcp-connector-acme"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert (root / "LICENSE").read_text() == (Path(__file__).parents[2] / "LICENSE").read_text()
    assert project["project"]["entry-points"]["sagemcp.connectors"] == {
        "acme": "sagemcp_acme.connector:AcmeCloudConnector"
    }
    assert any(dep.startswith("sagemcp-core>=") for dep in project["project"]["dependencies"])
    # One version number: pyproject.toml's, read back through the installed metadata.
    init = (root / "src/sagemcp_acme/__init__.py").read_text()
    assert '_version("sagemcp-connector-acme")' in init
    assert "version=__version__" in (root / "src/sagemcp_acme/connector.py").read_text()
    assert 'DEFAULT_API_URL = "https://api.acme.example/v2"' in (root / "src/sagemcp_acme/connector.py").read_text()
    readme = (root / "README.md").read_text()
    headings = [line for line in readme.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Install",
        "## Authentication",
        "## Configuration",
        "## Connect it to a tenant",
        "## Tools",
        "## Limitations",
        "## Development",
    ]
    assert "<!-- tools:start -->\n2 tools in 1 groups." in readme and "<!-- tools:end -->" in readme
    assert "sagemcp credential set acme --tenant acme --kind bearer" in readme
    assert "PUT /api/v1/admin/tenants/acme/credentials/acme" in readme
    description = json.loads((root / "tests/openapi.json").read_text())
    assert description["servers"] == [{"url": "https://api.acme.example/v2"}]
    assert sorted(description["paths"]) == ["/items", "/items/{item_id}"]


def test_the_oauth_readme_names_the_exact_scopes_and_the_flow(tmp_path: Path) -> None:
    root = create_connector("acme", "Acme", auth=["oauth2", "bearer"], dest=tmp_path)
    readme = (root / "README.md").read_text()
    assert "with the default groups, `items:read`" in readme
    assert "| `items` | `items:read` |" in readme  # the generated scope table
    assert "/api/v1/oauth/callback/acme" in readme and "POST /api/v1/oauth/acme/acme/authorize" in readme
    assert "scopes=READ_SCOPES" in (root / "src/sagemcp_acme/tools/items.py").read_text()


def test_it_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = create_connector("acme", "Acme", dest=tmp_path)
    (root / "README.md").write_text("mine")
    assert main(["acme", "--title", "Acme", "--dest", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (root / "README.md").read_text() == "mine"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["Acme", "--title", "Acme"], "lowercase letters or digits"),
        (["9lives", "--title", "Nine"], "lowercase letters or digits"),
        (["a" * 21, "--title", "Long"], "at most 20"),
        (["acme", "--title", 'Acme "Cloud"'], "title"),
        (["acme", "--title", "Acme", "--base-url", "http://api.acme.example"], "https"),
        (["acme", "--title", "Acme", "--base-url", "https://api.acme.example/?v=1"], "without query"),
    ],
)
def test_bad_options_are_refused_with_what_to_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main([*arguments, "--dest", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_auth_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["acme", "--title", "Acme", "--auth", "magic", "--dest", str(tmp_path)])
    with pytest.raises(DefinitionError, match="unknown auth kind 'magic'"):
        plan("acme", "Acme", auth=["magic"], dest=tmp_path)
    assert set(AUTH_KINDS) == {"oauth2", "bearer", "api_key", "basic", "client_credentials", "jwt_bearer"}


def test_a_description_in_the_repository_is_used_instead_of_the_example(tmp_path: Path) -> None:
    specs = tmp_path / "specs" / "acme"
    specs.mkdir(parents=True)
    document = {"openapi": "3.0.3", "info": {"title": "Acme", "version": "1"}, "paths": {}}
    (specs / "acme.json").write_text(json.dumps(document))
    (specs / "acme.connector-subset.json").write_text(json.dumps(document))
    (specs / "gmail.v1.json").write_text(json.dumps({"discoveryVersion": "v1", "resources": {}}))
    (specs / "connector-ops.txt").write_text("getItem\n")
    assert find_description(tmp_path, "acme") == specs / "acme.connector-subset.json"

    root = create_connector("acme", "Acme", dest=tmp_path, spec=specs / "acme.json")

    support = (root / "tests" / "acme_support.py").read_text()
    assert 'DESCRIPTION = Path(__file__).resolve().parents[2] / "specs" / "acme" / "acme.json"' in support
    assert not (root / "tests" / "openapi.json").exists()
    with pytest.raises(DefinitionError, match="must be a file in"):
        plan("other", "Other", dest=tmp_path, spec=specs / "acme.json")
    with pytest.raises(DefinitionError, match="not an OpenAPI"):
        plan("acme", "Acme", dest=tmp_path, spec=specs / "gmail.v1.json")


# -- the generated package works as generated ------------------------------------------------------


@needs_hatchling
@pytest.mark.parametrize(
    ("connector_id", "title", "auth"),
    [
        # Every scheme, rendered together, with the longest names the scaffold accepts.
        ("acmecorpintegrations", "Acme Corporation Integrations", ["basic", *AUTH_KINDS]),
        # Only the tests differ with the first scheme (the header the fake credential sends).
        ("keyed", "Keyed", ["api_key"]),
    ],
    ids=["every-scheme", "api-key"],
)
def test_the_generated_package_passes_its_tests_ruff_and_mypy(
    tmp_path: Path, mypy_cache: Path, connector_id: str, title: str, auth: list[str]
) -> None:
    root = create_connector(connector_id, title, auth=auth, dest=tmp_path)
    env = installed(root, tmp_path / "site")

    assert run_tests(root, env) == 17
    check_lint(root, f"sagemcp_{connector_id}")
    if len(auth) > 1:
        check_types(root, mypy_cache)


# -- the throw-away connector --------------------------------------------------------------------------


@needs_hatchling
def test_the_throwaway_connector_proves_the_grants_the_host_and_the_origins(tmp_path: Path, mypy_cache: Path) -> None:
    """Client credentials, a JWT bearer scheme, a credential-dependent base URL and two credential-carrying
    origins, added to a scaffolded package as `scaffold_throwaway/package/` (see its README)."""
    base = "https://api.throwaway.example"
    root = create_connector(
        "throwaway", "Throwaway", base_url=base, auth=["client_credentials", "jwt_bearer"], dest=tmp_path
    )
    for source in THROWAWAY.rglob("*.py"):
        target = root / source.relative_to(THROWAWAY)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    env = installed(root, tmp_path / "site")
    catalog = [sys.executable, "-m", "sagemcp.catalog", "sagemcp_throwaway.connector:ThrowawayConnector"]
    updated = run([*catalog, "--update", "README.md"], root, env)
    assert updated.returncode == 0, updated.stderr
    assert "`throwaway_get_item_attachment`" in (root / "README.md").read_text()

    # The scaffold's 17 tests, the new tool's contract case, and test_grants.py's 3 proofs and 4 refusals.
    assert run_tests(root, env) == 25
    check_lint(root, "sagemcp_throwaway")
    check_types(root, mypy_cache)
