"""`sagemcp serve --workers N` hands its settings to the workers through the environment, secrets intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemcp_server.cli import settings_environment
from sagemcp_server.settings import Settings


def test_workers_rebuild_the_same_settings_with_real_secret_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        admin_key="admin-key-for-tests-0123456789",
        upstream_proxy="http://user:proxy-password@127.0.0.1:3128",
        port=8123,
    )
    env = settings_environment(settings)
    assert "**********" not in "".join(env.values())
    assert env["SAGEMCP_UPSTREAM_PROXY"] == "http://user:proxy-password@127.0.0.1:3128"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    rebuilt = Settings()
    assert rebuilt.upstream_proxy is not None and settings.upstream_proxy is not None
    assert rebuilt.upstream_proxy.get_secret_value() == settings.upstream_proxy.get_secret_value()
    assert rebuilt.admin_key is not None and rebuilt.admin_key.get_secret_value() == "admin-key-for-tests-0123456789"
    assert rebuilt.port == 8123 and rebuilt.data_dir == tmp_path
