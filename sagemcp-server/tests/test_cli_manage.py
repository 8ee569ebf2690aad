"""`sagemcp connector show|update`, `credential list|delete`, `audit` and `completion`: through the admin API code.

Synchronous tests: the CLI runs its own event loop."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable

import pytest
from pydantic import SecretStr
from test_cli import env, run, run_json  # noqa: F401  (env is a fixture)

from sagemcp import Credential
from sagemcp.platform import AuditEvent
from sagemcp_server.cli import main
from sagemcp_server.db import SqlStore, create_engine
from sagemcp_server.keyring import load_secret_box
from sagemcp_server.settings import Settings


@pytest.mark.usefixtures("env")
def test_connector_update_changes_only_what_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "tenant", "create", "acme")
    run(capsys, "connector", "add", "demo", "--tenant", "acme", "--name", "tools", "--description", "first")
    out = run_json(capsys, "connector", "update", "tools", "--tenant", "acme", "--disable", "--exclude", "demo_add")
    assert out["enabled"] is False and out["description"] == "first"
    assert out["tool_policy"]["exclude_tools"] == ["demo_add"] and out["tool_policy"]["groups"] is None
    out = run_json(
        capsys, "connector", "update", "tools", "--tenant", "acme", "--groups", "basics", "--read-only", "on"
    )
    assert out["tool_policy"] == {
        "groups": ["basics"],
        "include_tools": [],
        "exclude_tools": ["demo_add"],
        "read_only": True,
    }
    assert out["enabled"] is False  # untouched by a policy change
    out = run_json(capsys, "connector", "update", "tools", "--tenant", "acme", "--enable", "--default-groups")
    assert out["enabled"] is True and out["tool_policy"]["groups"] is None and out["tool_policy"]["read_only"] is True
    shown = run(capsys, "connector", "show", "tools", "--tenant", "acme")
    assert "enabled" in shown and "groups: default; read-only: yes" in shown and "disabled: demo_add" in shown
    renamed = run_json(capsys, "connector", "update", "tools", "--tenant", "acme", "--rename", "basics")
    assert renamed["name"] == "basics"
    assert run_json(capsys, "connector", "show", "basics", "--tenant", "acme")["id"] == renamed["id"]


@pytest.mark.usefixtures("env")
def test_connector_update_refuses_nothing_to_do_and_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "tenant", "create", "acme")
    run(capsys, "connector", "add", "demo", "--tenant", "acme")
    assert main(["connector", "update", "demo", "--tenant", "acme"]) == 2
    assert "nothing to change" in capsys.readouterr().err
    body = run_json(capsys, "connector", "update", "demo", "--tenant", "acme", "--config", '{"x": 1}', code=1)
    assert body["error"]["code"] == "invalid_configuration"
    body = run_json(capsys, "connector", "update", "nope", "--tenant", "acme", "--disable", code=1)
    assert body["error"]["code"] == "connector_not_found"
    with pytest.raises(SystemExit):  # argparse: --enable and --disable together
        run(capsys, "connector", "update", "demo", "--tenant", "acme", "--enable", "--disable")


async def _store(work: Callable[[SqlStore], Awaitable[None]]) -> None:
    settings = Settings()
    engine = create_engine(settings.resolved_database_url(), schema=settings.database_schema)
    try:
        await work(SqlStore(engine, load_secret_box(settings)))
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("env")
def test_credential_list_and_delete(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "tenant", "create", "acme")

    async def put(store: SqlStore) -> None:
        tenant = await store.get_tenant("acme")
        assert tenant is not None
        token = SecretStr("tok_secret_123")
        await store.put_credential(
            Credential(tenant_id=tenant.id, provider="github", kind="bearer", access_token=token)
        )

    asyncio.run(_store(put))
    listed = run_json(capsys, "credential", "list", "--tenant", "acme")
    assert [(c["provider"], c["kind"], c["status"]) for c in listed["items"]] == [("github", "bearer", "active")]
    human = run(capsys, "credential", "list", "--tenant", "acme")
    assert "github" in human and "tok_secret_123" not in human
    assert main(["credential", "delete", "github", "--tenant", "acme"]) == 2  # needs --yes
    assert "disconnects" in capsys.readouterr().err
    run(capsys, "credential", "delete", "github", "--tenant", "acme", "--yes")
    assert run_json(capsys, "credential", "list", "--tenant", "acme")["items"] == []


@pytest.mark.usefixtures("env")
def test_audit_lists_a_tenants_calls_newest_first_with_filters(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "tenant", "create", "acme")
    run(capsys, "tenant", "create", "other")
    connector = run_json(capsys, "connector", "add", "demo", "--tenant", "acme")

    async def record(store: SqlStore) -> None:
        acme, other = await store.get_tenant("acme"), await store.get_tenant("other")
        assert acme is not None and other is not None
        for i in range(7):  # one at a time: distinct timestamps, newest last
            event = AuditEvent(
                tenant_id=(other if i == 3 else acme).id,
                connector_id=connector["id"],
                connector_type="demo",
                tool="add" if i % 2 else "echo",
                principal_id=f"key-{i}",
                outcome="error" if i == 4 else "ok",
                duration_ms=float(i),
                request_id=f"r{i}",
            )
            await store.record_audits([event])

    asyncio.run(_store(record))
    items = run_json(capsys, "audit", "--tenant", "acme")["items"]
    assert [e["principal_id"] for e in items] == ["key-6", "key-5", "key-4", "key-2", "key-1", "key-0"]
    assert [e["principal_id"] for e in run_json(capsys, "audit", "--tenant", "acme", "--limit", "2")["items"]] == [
        "key-6",
        "key-5",
    ]
    only = run_json(capsys, "audit", "--tenant", "acme", "--tool", "add", "--connector", "demo")["items"]
    assert [e["principal_id"] for e in only] == ["key-5", "key-1"]
    errors = run_json(capsys, "audit", "--tenant", "acme", "--outcome", "error")["items"]
    assert [e["principal_id"] for e in errors] == ["key-4"]
    assert "key-3" in run(capsys, "audit", "--tenant", "other")


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_know_the_commands(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = run(capsys, "completion", shell)
    for word in ("tenant", "connector", "credential", "audit", "update"):
        assert word in script
    if shell == "bash":
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)  # the script parses
