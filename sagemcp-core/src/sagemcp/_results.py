"""A tool call's outcome as the client sees it, independent of the protocol, and how a return value becomes one.

`ToolOutcome` is what `sagemcp._execution.ToolRunner` produces for every call: the
content blocks, the structured content, the error flag, and for audit and metrics
an outcome and an error code. The MCP adapter turns it into the SDK's
`CallToolResult`; `sagemcp.testing.call_tool` hands it to tests.

A return value becomes content as follows:

- a `ToolResult`: its own parts, structured content and error flag (text parts capped);
- a `str` from a tool without an output schema: one text block, capped;
- anything else: `structuredContent` from the tool's output schema, and one text
  block, which is the value's `to_markdown()` when it defines one
  (`sagemcp.markdown.SupportsMarkdown`), else the compact JSON of the structured
  content. A structured result whose text is over the cap is an error that says
  how to ask for less, never a silently cut JSON document.

Text over the cap (`max_result_chars`) is cut by `sagemcp._text.clip`, so it ends with the
platform's one truncation marker (`…[truncated: 100,000 of 250,000 characters shown; ...]`).

JSON text is strict JSON (RFC 8259): a non-finite float (`NaN`, `Infinity`, `-Infinity`)
becomes `null`, in plain data as pydantic already does for models, so every client's
parser reads it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ._content import Content, Text, ToolResult
from ._text import clip
from ._tools import ToolSpec
from .errors import SageMCPError

__all__ = ["CAP_HINT", "Outcome", "ToolOutcome", "cap_text", "failure", "render_value", "to_json"]

Outcome = Literal["ok", "error", "denied", "invalid", "limited", "upstream_error"]
"""How a call ended, for the audit trail and metrics (`AuditEvent.outcome`)."""

CAP_HINT = "ask for less (a smaller limit, a narrower query) or page with the cursor"
"""What the truncation marker of a capped result tells the model to do."""


@dataclass(slots=True)
class ToolOutcome:
    """What one tool call produced: the client-visible result, and what audit and metrics record."""

    content: list[Content]
    structured: dict[str, Any] | None
    is_error: bool
    outcome: Outcome
    code: str | None = None
    """The error code (`SageMCPError.code`, `internal_error`, `result_too_large`), None on success."""
    value: Any = None
    """What the tool returned; None when the call failed before or inside it."""
    error: SageMCPError | None = None
    """The error behind an error result (policy, arguments, credential, upstream), if any."""
    exception: Exception | None = None
    """An unexpected exception (a bug), already logged with the request id; the client saw a generic text."""

    @property
    def text(self) -> str:
        """The text blocks, joined by newlines."""
        return "\n".join(part.text for part in self.content if isinstance(part, Text))


def failure(message: str, outcome: Outcome, code: str | None, error: SageMCPError | None = None) -> ToolOutcome:
    """An error result with one text block."""
    return ToolOutcome([Text(message)], None, True, outcome, code, error=error)


def render_value(spec: ToolSpec, value: Any, max_chars: int) -> ToolOutcome:
    """A tool's return value as an outcome: structured content plus a text block (Markdown or JSON), capped."""
    if isinstance(value, ToolResult):
        parts = [Text(cap_text(p.text, max_chars)) if isinstance(p, Text) else p for p in value.content]
        outcome: Outcome = "error" if value.is_error else "ok"
        return ToolOutcome(parts, value.structured, value.is_error, outcome, value=value)
    if isinstance(value, str) and spec.output_adapter is None:
        return ToolOutcome([Text(cap_text(value, max_chars))], None, False, "ok", value=value)
    structured = spec.structured(value)
    to_markdown = getattr(value, "to_markdown", None)
    if callable(to_markdown):
        text = str(to_markdown())
    elif structured is not None:
        text = to_json(structured)
    else:
        text = value if isinstance(value, str) else to_json(value)
    if structured is not None and len(text) > max_chars:
        return failure(
            f"The result of {spec.name} is {len(text)} characters, over this server's limit of {max_chars}. "
            "Ask for less: use a smaller limit, a narrower query, or page with the cursor.",
            "error",
            "result_too_large",
        )
    return ToolOutcome([Text(cap_text(text, max_chars))], structured, False, "ok", value=value)


def cap_text(text: str, max_chars: int) -> str:
    """`text`, or at most `max_chars` characters of it followed by the truncation marker."""
    if len(text) <= max_chars:  # the steady state: no call, no allocation
        return text
    return clip(text, max_chars, CAP_HINT)[0]


def to_json(value: Any) -> str:
    """Compact, strict JSON text of a value (a model without its None fields); non-finite floats become null."""
    if isinstance(value, BaseModel):
        return value.model_dump_json(exclude_none=True)  # pydantic writes NaN and infinities as null
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        # Rare (a float from arithmetic or an upstream), so only then is the value walked.
        return json.dumps(_finite(value), separators=(",", ":"), ensure_ascii=False, default=str)


def _finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (containers copied, the rest unchanged)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
