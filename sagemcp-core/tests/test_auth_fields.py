"""Scheme material is data: each scheme's fields model, and the credential `credential_from_fields` makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from sagemcp import (
    ApiKey,
    AuthScheme,
    BasicAuth,
    BearerToken,
    Connector,
    ConnectorInfo,
    Credential,
    CredentialFields,
    OAuth2,
    credential_from_fields,
    tool,
)
from sagemcp.errors import NotConnected, ReconnectRequired
from sagemcp.platform import CredentialManager, MemoryStore, OAuthFlows, Tenant

OAUTH = OAuth2(authorize_url="https://auth.example/authorize", token_url="https://auth.example/token")


def make(scheme: AuthScheme, **fields: Any) -> Credential:
    return credential_from_fields(scheme, fields, tenant_id="t1", provider="demo")


def test_bearer_fields_fill_the_token_and_metadata() -> None:
    expires = datetime(2031, 1, 1, tzinfo=UTC)
    cred = make(BearerToken(), token="pat-1", account="bot", scopes=["repo"], expires_at=expires.isoformat())
    assert cred.kind == "bearer" and cred.require_token() == "pat-1"
    assert cred.account == "bot" and cred.scopes == ["repo"] and cred.expires_at == expires.timestamp()
    assert cred.extra == {} and cred.secrets == {}
    assert BearerToken().headers(cred) == {"Authorization": "Bearer pat-1"}


def test_api_key_and_basic_fields() -> None:
    key = make(ApiKey(header="X-Key"), key="k-1")
    assert key.require_token() == "k-1" and ApiKey(header="X-Key").headers(key) == {"X-Key": "k-1"}
    basic = make(BasicAuth(), username="me@example.com", token="api-token")
    assert basic.account == "me@example.com" and basic.require_token() == "api-token"
    assert BasicAuth().headers(basic) == {"Authorization": "Basic bWVAZXhhbXBsZS5jb206YXBpLXRva2Vu"}


def test_oauth2_tokens_can_be_pasted() -> None:
    cred = make(OAUTH, access_token="at", refresh_token="rt", scopes=["read"])
    assert cred.kind == "oauth2" and cred.require_token() == "at"
    assert cred.refresh_token is not None and cred.refresh_token.get_secret_value() == "rt"


@pytest.mark.parametrize(
    ("scheme", "fields", "field"),
    [
        (BearerToken(), {}, "token"),
        (BearerToken(), {"token": ""}, "token"),
        (BearerToken(), {"token": "x", "tokn": "y"}, "tokn"),
        (ApiKey(), {"token": "x"}, "key"),
        (BasicAuth(), {"token": "x"}, "username"),
        (OAUTH, {"refresh_token": "rt"}, "access_token"),
        (BearerToken(), {"token": "x", "expires_at": "next week"}, "expires_at"),
    ],
)
def test_bad_fields_name_the_field(scheme: AuthScheme, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make(scheme, **fields)
    assert field in [e["loc"][0] for e in caught.value.errors()]


def test_secret_fields_are_write_only_in_the_schema() -> None:
    schema = BearerToken().fields_model().model_json_schema()
    assert schema["properties"]["token"]["writeOnly"] is True
    assert schema["required"] == ["token"]
    assert "writeOnly" not in schema["properties"]["account"]


class _SiteFields(CredentialFields):
    site: str
    password: SecretStr
    username: str | None = None


class _SiteScheme(AuthScheme):
    kind = "site_login"
    Fields = _SiteFields
    field_slots = {"username": "account"}


def test_a_custom_scheme_keeps_plain_fields_in_extra_and_secrets_apart() -> None:
    cred = make(_SiteScheme(), site="https://x.example", password="hunter2", username="ann")
    assert cred.kind == "site_login" and cred.access_token is None
    assert cred.extra == {"site": "https://x.example"} and cred.account == "ann"
    assert cred.secret("password") == "hunter2" and cred.secret("other") is None
    assert "hunter2" not in repr(cred) and "hunter2" not in cred.model_dump_json()


def test_secret_names_are_checked() -> None:
    with pytest.raises(ValidationError, match="secret names"):
        Credential(tenant_id="t", provider="p", secrets={"Bad Name": SecretStr("x")})


def test_a_missing_token_is_not_connected() -> None:
    cred = Credential(tenant_id="t", provider="demo", kind="bearer")
    with pytest.raises(NotConnected, match="no access token yet"):
        BearerToken().headers(cred)
    with pytest.raises(NotConnected):
        ApiKey(query_param="key").query(cred)
    with pytest.raises(NotConnected):
        OAUTH.headers(cred)


class _Tokened(Connector):
    info = ConnectorInfo(id="tokened", title="Tokened", description="Takes a token.")
    auth = (BearerToken(), OAUTH)

    @tool(read_only=True, group="g")
    async def ping(self, ctx: Any) -> str:
        """Ping."""
        return "pong"


@pytest.mark.parametrize("kind", ["bearer", "oauth2"])
async def test_a_stored_credential_without_a_token_that_cannot_get_one_needs_a_reconnect(kind: str) -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_credential(Credential(tenant_id=tenant.id, provider="tokened", kind=kind))
    with pytest.raises(ReconnectRequired, match="has no access token"):
        await CredentialManager(store, OAuthFlows()).get(tenant.id, "tokened", _Tokened)


async def test_an_unexpired_pasted_token_is_handed_out_as_stored() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    expires = datetime.now(UTC) + timedelta(days=1)
    store.put_credential(
        credential_from_fields(
            BearerToken(), {"token": "pat", "expires_at": expires}, tenant_id=tenant.id, provider="tokened"
        )
    )
    got = await CredentialManager(store, OAuthFlows()).get(tenant.id, "tokened", _Tokened)
    assert got is not None and got.require_token() == "pat"
