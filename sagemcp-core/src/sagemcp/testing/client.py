"""`AnsweringClient`: a stand-in MCP client for `call_tool(..., client=...)` that answers a tool's questions.

    client = AnsweringClient({"confirm": ElicitResult("accept", {"confirm": True})})
    call = await call_tool(Slack, "slack_delete_message", args, handler=fake, client=client)
    assert client.asked["confirm"].message.startswith("Delete")

It declares the capabilities it is given (by default elicitation, sampling and roots); a tool
asking for one it lacks gets `MissingClientCapability`, as from a real client that did not
declare it. A question without a prepared answer fails the test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._content import ElicitResult, SamplingResult
from .._input import (
    ClientCapability,
    ElicitInput,
    InputAnswer,
    InputRequest,
    MissingClientCapability,
    SampleInput,
    capability_of,
)

__all__ = ["AnsweringClient"]


class AnsweringClient:
    """Answers `ctx.client.ask` from prepared answers by key, and records what was asked and logged."""

    def __init__(
        self,
        answers: Mapping[str, InputAnswer] | None = None,
        *,
        capabilities: Iterable[ClientCapability] = ("elicitation", "sampling", "roots"),
    ) -> None:
        self.answers = dict(answers or {})
        self.capabilities = frozenset(capabilities)
        self.asked: dict[str, InputRequest] = {}
        self.logs: list[tuple[str, Any]] = []
        self.progress_reports: list[tuple[float, float | None, str | None]] = []

    def supports(self, capability: ClientCapability) -> bool:
        return capability in self.capabilities

    async def ask(self, requests: Mapping[str, InputRequest]) -> dict[str, InputAnswer]:
        for request in requests.values():
            if not self.supports(capability_of(request)):
                raise MissingClientCapability(capability_of(request))
        self.asked.update(requests)
        missing = sorted(set(requests) - set(self.answers))
        if missing:
            raise AssertionError(f"the tool asked {missing} and AnsweringClient has no answer for them")
        return {key: self.answers[key] for key in requests}

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        self.progress_reports.append((progress, total, message))

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        self.logs.append((level, data))

    async def sample(self, prompt: str, *, max_tokens: int = 512, system: str | None = None) -> SamplingResult:
        answer = (await self.ask({"sample": SampleInput(prompt, max_tokens, system)}))["sample"]
        assert isinstance(answer, SamplingResult), answer
        return answer

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitResult:
        answer = (await self.ask({"elicit": ElicitInput(message, schema)}))["elicit"]
        assert isinstance(answer, ElicitResult), answer
        return answer
