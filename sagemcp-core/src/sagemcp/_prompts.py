"""The `prompt` decorator: MCP prompts declared on a connector.

A prompt function takes string arguments and returns a `str` (one user message) or
a list of `PromptMessage`. Served names are `{connector id}_{name}` like tools.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from ._tools import arguments_model
from .errors import DefinitionError

__all__ = ["PromptArgument", "PromptSpec", "prompt"]

_MARK = "__sagemcp_prompt__"
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True)
class PromptArgument:
    name: str
    description: str | None
    required: bool


@dataclass(frozen=True)
class _PromptDecl:
    name: str
    title: str | None
    description: str
    func: Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class PromptSpec:
    name: str
    title: str | None
    description: str
    arguments: tuple[PromptArgument, ...]
    arguments_model: type[BaseModel]
    func: Callable[..., Awaitable[Any]] = field(repr=False)


def prompt(*, name: str | None = None, title: str | None = None, description: str | None = None) -> Callable[[F], F]:
    """Declare an async connector method as an MCP prompt."""

    def decorate(func: F) -> F:
        if not inspect.iscoroutinefunction(cast(Any, func)):
            raise DefinitionError(f"prompt {func.__qualname__} must be an async function")
        decl = _PromptDecl(
            name=name or func.__name__,
            title=title,
            description=description or inspect.cleandoc(func.__doc__ or ""),
            func=func,
        )
        setattr(func, _MARK, decl)
        return func

    return decorate


def declared_prompts(namespace: Mapping[str, Any]) -> list[_PromptDecl]:
    return [getattr(v, _MARK) for v in namespace.values() if hasattr(v, _MARK)]


def build_prompt_spec(connector_id: str, decl: _PromptDecl) -> PromptSpec:
    name = f"{connector_id}_{decl.name}"
    model = arguments_model(name, decl.func)
    args = tuple(
        PromptArgument(name=n, description=f.description, required=f.is_required())
        for n, f in model.model_fields.items()
    )
    return PromptSpec(
        name=name, title=decl.title, description=decl.description, arguments=args, arguments_model=model, func=decl.func
    )
