"""Protocol-neutral content a tool, resource or prompt may return.

Most tools return a pydantic model and never touch these. Tools that need MCP's
richer content (images, audio, embedded resources, several parts) return a
`ToolResult`; the adapter in `sagemcp.mcp` turns these into the SDK's types, so
connectors never import the MCP SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Audio",
    "Content",
    "ElicitResult",
    "EmbeddedResource",
    "Image",
    "PromptMessage",
    "ResourceContent",
    "SamplingResult",
    "Text",
    "ToolResult",
]


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Image:
    data: str
    """Base64-encoded bytes."""
    mime_type: str


@dataclass(frozen=True)
class Audio:
    data: str
    """Base64-encoded bytes."""
    mime_type: str


@dataclass(frozen=True)
class ResourceContent:
    """The contents of a resource: `text` or base64 `blob`."""

    uri: str
    mime_type: str | None = None
    text: str | None = None
    blob: str | None = None


@dataclass(frozen=True)
class EmbeddedResource:
    resource: ResourceContent


Content = Text | Image | Audio | EmbeddedResource


@dataclass(frozen=True)
class ToolResult:
    """An explicit tool result: content parts, optional structured data, error flag."""

    content: list[Content] = field(default_factory=list)
    structured: dict[str, Any] | None = None
    is_error: bool = False


@dataclass(frozen=True)
class PromptMessage:
    role: Literal["user", "assistant"]
    content: Content


@dataclass(frozen=True)
class SamplingResult:
    """What the client's model answered to a sampling request."""

    role: str
    text: str | None
    model: str | None = None
    stop_reason: str | None = None


@dataclass(frozen=True)
class ElicitResult:
    """The person's answer to an elicitation request."""

    action: Literal["accept", "decline", "cancel"]
    content: dict[str, Any] | None = None
