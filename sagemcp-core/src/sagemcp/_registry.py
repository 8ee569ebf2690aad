"""`ConnectorRegistry`: the connector classes available to this process.

Installed connectors are found through the entry-point group `sagemcp.connectors`
with stevedore; the entry-point name is the connector id (`github`). Classes are
loaded, never instantiated, so a missing credential can never look like a load
failure. Every failure is kept with its reason for `sagemcp connectors` to show.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from stevedore import ExtensionManager, NamedExtensionManager

from ._connector import CORE_API, Connector
from .errors import ConnectorNotFound, RegistryError

__all__ = ["ENTRY_POINT_GROUP", "ConnectorRegistry", "LoadFailure"]

ENTRY_POINT_GROUP = "sagemcp.connectors"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadFailure:
    """A connector that could not be loaded, and why."""

    name: str
    target: str
    reason: str


class ConnectorRegistry:
    """Connector classes by id, plus the reasons any failed to load."""

    def __init__(self, connectors: Iterable[type[Connector]] = ()) -> None:
        self._classes: dict[str, type[Connector]] = {}
        self._instances: dict[str, Connector] = {}
        self.failures: list[LoadFailure] = []
        for cls in connectors:
            self.register(cls)

    @classmethod
    def from_entry_points(cls, names: Iterable[str] | None = None, group: str = ENTRY_POINT_GROUP) -> ConnectorRegistry:
        """Load installed connectors (only `names` when given); failures are collected, not raised."""
        registry = cls()
        registry.load_entry_points(names, group)
        return registry

    def load_entry_points(self, names: Iterable[str] | None = None, group: str = ENTRY_POINT_GROUP) -> None:
        wanted = set(names) if names is not None else None

        def on_failure(_manager: Any, entry_point: Any, exc: BaseException) -> None:
            self._fail(entry_point.name, getattr(entry_point, "value", str(entry_point)), _describe(exc))

        manager: ExtensionManager[Any]
        if wanted is None:
            manager = ExtensionManager(namespace=group, invoke_on_load=False, on_load_failure_callback=on_failure)
        else:
            # Only the named entry points are imported: an unrelated broken plugin cannot get in the way.
            manager = NamedExtensionManager(
                namespace=group, names=sorted(wanted), invoke_on_load=False, on_load_failure_callback=on_failure
            )
        for ext in manager.extensions:
            target = getattr(ext.entry_point, "value", ext.name)
            try:
                self._check(ext.plugin, ext.name)
                self.register(ext.plugin)
            except RegistryError as exc:
                self._fail(ext.name, target, exc.message)
        if wanted:
            for missing in sorted(wanted - set(self._classes) - {f.name for f in self.failures}):
                self._fail(missing, "", f"no connector named {missing!r} is installed")

    def register(self, cls: type[Connector]) -> type[Connector]:
        """Add a connector class (for code that does not use entry points). Usable as a decorator."""
        self._check(cls, None)
        cid = cls.info.id
        existing = self._classes.get(cid)
        if existing is not None and existing is not cls:
            raise RegistryError(
                f"connector id {cid!r} is already registered by {existing.__module__}.{existing.__qualname__}"
            )
        self._classes[cid] = cls
        return cls

    def get(self, connector_id: str) -> type[Connector]:
        try:
            return self._classes[connector_id]
        except KeyError:
            raise ConnectorNotFound(f"connector type {connector_id!r} is not installed") from None

    def instance(self, connector_id: str) -> Connector:
        """The shared, stateless instance of a connector class."""
        inst = self._instances.get(connector_id)
        if inst is None:
            inst = self._instances[connector_id] = self.get(connector_id)()
        return inst

    def __contains__(self, connector_id: object) -> bool:
        return connector_id in self._classes

    def __iter__(self) -> Iterator[type[Connector]]:
        return iter(sorted(self._classes.values(), key=lambda c: c.info.id))

    def __len__(self) -> int:
        return len(self._classes)

    def ids(self) -> list[str]:
        return sorted(self._classes)

    def _fail(self, name: str, target: str, reason: str) -> None:
        logger.warning("connector %s (%s) not loaded: %s", name, target, reason)
        self.failures.append(LoadFailure(name=name, target=target, reason=reason))

    @staticmethod
    def _check(plugin: object, entry_name: str | None) -> None:
        if not (isinstance(plugin, type) and issubclass(plugin, Connector)):
            raise RegistryError(f"{plugin!r} is not a Connector subclass")
        info = getattr(plugin, "info", None)
        if info is None or "info" not in vars(plugin):
            raise RegistryError(f"{plugin.__qualname__} has no ConnectorInfo (class attribute `info`)")
        if info.core_api != CORE_API:
            raise RegistryError(
                f"{plugin.__qualname__} targets connector API {info.core_api}, this core provides {CORE_API}; "
                "install a matching version of the connector"
            )
        if entry_name is not None and entry_name != info.id:
            raise RegistryError(f"entry point {entry_name!r} does not match the connector id {info.id!r}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError):
        return f"missing module {exc.name!r} (install the connector's dependencies)"
    return f"{type(exc).__name__}: {exc}"
