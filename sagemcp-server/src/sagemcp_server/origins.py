"""Which upstream origins a credential is bound to, worked out from a tenant's connectors.

One rule, used when a credential is stored or authorized (`api.credentials.bind_credential`),
when a platform admin rebinds one, and by the migration that binds credentials stored
before credentials had origins (`0007_bind_credential_origins`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from sagemcp import Connector, Credential
from sagemcp.platform import ConnectorRegistry, base_provider, credential_binding

__all__ = ["ConfiguredConnector", "ConnectorLike", "binding_origins_for"]

logger = logging.getLogger("sagemcp_server.origins")


class ConnectorLike(Protocol):
    """What the rule needs of a tenant's connector (a `ConnectorConfig` is one)."""

    @property
    def connector_type(self) -> str: ...
    @property
    def provider(self) -> str | None: ...
    @property
    def configuration(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class ConfiguredConnector:
    """A tenant's connector as a database row has it: its type, provider override and configuration."""

    connector_type: str
    provider: str | None
    configuration: Mapping[str, Any]


def binding_origins_for(
    registry: ConnectorRegistry, credential: Credential, connectors: Iterable[ConnectorLike]
) -> tuple[str, ...]:
    """The origins `credential` is bound to, given the tenant's `connectors` as configured now.

    Those of each connector using the credential's provider, with its configuration; when the
    tenant has none, those of the provider's installed connector types with their default
    configuration. Empty when none can be worked out (the credential then goes nowhere).
    """
    provider = base_provider(credential.provider)
    mine = [
        c
        for c in connectors
        if c.connector_type in registry and (c.provider or registry.get(c.connector_type).provider_id()) == provider
    ]
    targets: list[tuple[type[Connector], BaseModel]] = []
    for connector in mine:
        cls = registry.get(connector.connector_type)
        try:
            targets.append((cls, cls.parse_config(dict(connector.configuration))))
        except ValidationError:
            continue  # a configuration this version refuses calls nothing
    if not mine:
        for cls in registry:
            if cls.provider_id() != provider:
                continue
            try:
                targets.append((cls, cls.parse_config({})))
            except ValidationError:
                continue  # the type needs configuration: its host is not known before a connector exists
    found: list[str] = []
    for cls, settings in targets:
        try:
            origins = credential_binding(cls, settings, credential)
        except ValueError as exc:
            logger.warning("the %s connector names an invalid upstream origin: %s", cls.info.id, exc)
            continue
        found.extend(origin for origin in origins if origin not in found)
    return tuple(found)
