"""The `resource` decorator: MCP resources and resource templates declared on a connector.

A resource function returns `str` (text), `bytes` (binary) or a list of
`ResourceContent`. A URI with `{placeholders}` declares a template; the
placeholders are passed to the function as keyword arguments.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import unquote

from .errors import DefinitionError

__all__ = ["ResourceSpec", "resource"]

_MARK = "__sagemcp_resource__"
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True)
class ResourceSpec:
    uri: str
    name: str
    title: str | None
    description: str
    mime_type: str | None
    func: Callable[..., Awaitable[Any]] = field(repr=False)
    params: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = field(default=None, repr=False)

    @property
    def is_template(self) -> bool:
        return bool(self.params)

    def match(self, uri: str) -> dict[str, str] | None:
        """Keyword arguments for `uri` if this resource serves it, else None."""
        if not self.is_template:
            return {} if uri == self.uri else None
        assert self.pattern is not None
        m = self.pattern.fullmatch(uri)
        return {k: unquote(v) for k, v in m.groupdict().items()} if m else None


def resource(
    uri: str,
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    mime_type: str | None = None,
) -> Callable[[F], F]:
    """Declare an async connector method as an MCP resource (or template, when `uri` has `{params}`)."""

    def decorate(func: F) -> F:
        if not inspect.iscoroutinefunction(cast(Any, func)):
            raise DefinitionError(f"resource {func.__qualname__} must be an async function")
        params = tuple(_PLACEHOLDER.findall(uri))
        accepted = list(inspect.signature(func).parameters)[2:]
        if sorted(params) != sorted(accepted):
            raise DefinitionError(
                f"resource {func.__qualname__}: URI placeholders {list(params)} must match parameters {accepted}"
            )
        pattern = None
        if params:
            regex = ""
            pos = 0
            for m in _PLACEHOLDER.finditer(uri):
                regex += re.escape(uri[pos : m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
                pos = m.end()
            pattern = re.compile(regex + re.escape(uri[pos:]))
        spec = ResourceSpec(
            uri=uri,
            name=name or func.__name__,
            title=title,
            description=description or inspect.cleandoc(func.__doc__ or ""),
            mime_type=mime_type,
            func=func,
            params=params,
            pattern=pattern,
        )
        setattr(func, _MARK, spec)
        return func

    return decorate


def declared_resources(namespace: Mapping[str, Any]) -> list[ResourceSpec]:
    return [getattr(v, _MARK) for v in namespace.values() if hasattr(v, _MARK)]
