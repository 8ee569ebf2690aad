"""Asking the MCP client for input during a call: `ctx.client.ask(...)`, in both protocol eras.

A tool (or a prompt or resource function) names what it needs under keys of its own:

    answers = await ctx.client.ask({"confirm": ElicitInput("Delete the branch?", CONFIRM_SCHEMA)})

- 2025-11-25 and older (stateful sessions): each request is sent to the client at once
  (`elicitation/create`, `sampling/createMessage`, `roots/list`) and `ask` returns the answers.
- 2026-07-28: the server sends no requests of its own. `ask` raises `InputRequired`; the
  adapter answers the call with an `InputRequiredResult` carrying the requests and a signed
  request state holding the answers gathered so far. The client retries the call with its
  answers and the state; the function runs again from the start and this time `ask` returns.
  Code before an `ask` therefore runs once per round: keep writes after the last `ask`.

A client that did not declare the capability a request needs gets `MissingClientCapability`
(JSON-RPC -32021 on 2026-07-28). Check `ctx.client.supports("elicitation")` first to offer a
fallback (such as a `confirm` argument) to clients that cannot answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._content import ElicitResult, SamplingResult

__all__ = [
    "CONFIRM_SCHEMA",
    "ClientCapability",
    "ElicitInput",
    "InputAnswer",
    "InputRequest",
    "InputRequired",
    "MissingClientCapability",
    "Root",
    "RootsInput",
    "RootsResult",
    "SampleInput",
    "capability_of",
]

ClientCapability = Literal["elicitation", "sampling", "roots"]

CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean", "title": "Confirm", "description": "Yes, go ahead"}},
    "required": ["confirm"],
}
"""A form with one required yes/no field, `confirm` (see `ToolContext.confirm`)."""


@dataclass(frozen=True)
class ElicitInput:
    """Ask the person for a form's values (`elicitation/create`, form mode)."""

    message: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class SampleInput:
    """Ask the client's model for a completion of `prompt` (`sampling/createMessage`)."""

    prompt: str
    max_tokens: int = 512
    system: str | None = None


@dataclass(frozen=True)
class RootsInput:
    """Ask the client for its roots (`roots/list`)."""


@dataclass(frozen=True)
class Root:
    uri: str
    name: str | None = None


@dataclass(frozen=True)
class RootsResult:
    roots: list[Root] = field(default_factory=list)


InputRequest = ElicitInput | SampleInput | RootsInput
InputAnswer = ElicitResult | SamplingResult | RootsResult


def capability_of(request: InputRequest) -> ClientCapability:
    """The client capability a request needs."""
    if isinstance(request, ElicitInput):
        return "elicitation"
    if isinstance(request, SampleInput):
        return "sampling"
    return "roots"


class InputRequired(Exception):
    """Raised by `ask` on 2026-07-28 while answers are missing; the adapter turns it into an
    `InputRequiredResult`. Connector code never catches it (let it propagate)."""

    def __init__(self, requests: Mapping[str, InputRequest], answered: Mapping[str, Any]) -> None:
        super().__init__(f"input required: {', '.join(sorted(requests))}")
        self.requests = dict(requests)
        self.answered = dict(answered)
        """The answers gathered so far, in wire form, carried to the next round in the signed state."""


class MissingClientCapability(Exception):
    """The client did not declare a capability the call needs (JSON-RPC -32021 on 2026-07-28)."""

    def __init__(self, capability: ClientCapability) -> None:
        super().__init__(f"This request needs the client capability `{capability}`, which the client did not declare.")
        self.capability = capability
