"""Contract checks for where a connector sends the credential: the hooks' signatures and declared origins."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from sagemcp import BearerToken, Connector, ConnectorInfo, ConnectorSettings, Credential, tool
from sagemcp.testing import check_connector


class Files(Connector):
    info = ConnectorInfo(id="files", title="Files", description="A connector with a second, declared file host.")
    auth = (BearerToken(),)
    base_url = "https://api.files.example"
    extra_origins = ("https://uploads.files.example", "https://cdn.files.example:8443")

    @tool(read_only=True, group="read")
    async def get_file(self, ctx: Any, file_id: Annotated[str, Field(description="The file's id.")]) -> str:
        """Get one file's text by its id, as stored."""
        return ""


def variant(**attrs: Any) -> type[Connector]:
    cls = type("Variant", (Files,), {})
    for name, value in attrs.items():
        setattr(cls, name, value)
    return cls


def test_well_declared_origins_pass() -> None:
    assert check_connector(Files) == []


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("http://uploads.files.example", "https://"),
        ("https://uploads.files.example/v1", "path"),
        ("https://uploads.files.example?sig=1", "query"),
        ("https://u:p@uploads.files.example", "user name"),
        ("uploads.files.example", "https://"),
        ("https://uploads.files.example:http", "port"),
    ],
)
def test_bad_declared_origins_are_named(origin: str, why: str) -> None:
    (problem,) = check_connector(variant(extra_origins=(origin,)))
    assert f"extra_origins entry {origin!r}" in problem and why in problem and "https://host[:port]" in problem


def test_a_string_instead_of_a_tuple_is_named() -> None:
    (problem,) = check_connector(variant(extra_origins="https://uploads.files.example"))
    assert "must be a tuple of origin strings" in problem


def test_hooks_must_take_the_credential() -> None:
    class Old(Files):
        @classmethod
        def api_base_url(cls, config: BaseModel) -> str:  # type: ignore[override]
            return "https://api.files.example"

    (problem,) = check_connector(Old)
    assert "Old.api_base_url() must take (config, credential)" in problem


class Regional(ConnectorSettings):
    region: str = "eu"


def test_a_computed_origin_is_checked_with_the_default_configuration() -> None:
    class Computed(Files):
        Config = Regional

        @classmethod
        def credential_origins(cls, config: BaseModel, credential: Credential | None) -> tuple[str, ...]:
            return (f"http://{getattr(config, 'region', '')}.files.example",)

    (problem,) = check_connector(Computed)
    assert "credential_origins() returned 'http://eu.files.example'" in problem


def test_a_computed_origin_hook_must_accept_no_credential() -> None:
    class Strict(Files):
        @classmethod
        def credential_origins(cls, config: BaseModel, credential: Credential | None) -> tuple[str, ...]:
            assert credential is not None
            return (f"https://{credential.extra['region']}.files.example",)

    (problem,) = check_connector(Strict)
    assert "credential_origins(config, None) raised AssertionError" in problem
