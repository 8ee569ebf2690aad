"""Conversion between core's protocol-neutral shapes and the MCP SDK's types, and result size capping."""

from __future__ import annotations

import base64
import json
from typing import Any

import mcp_types as types
from pydantic import BaseModel

from ..content import Audio, Content, EmbeddedResource, Image, PromptMessage, ResourceContent, Text, ToolResult
from ..prompts import PromptSpec
from ..resources import ResourceSpec
from ..tools import ToolSpec

TRUNCATION_MARKER = (
    "\n\n[truncated: {shown} of {total} characters shown. "
    "Ask for less (a smaller limit, a narrower query) or page with the cursor.]"
)


def tool_to_mcp(spec: ToolSpec, served_name: str) -> types.Tool:
    a = spec.annotations
    return types.Tool(
        name=served_name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema,
        output_schema=spec.output_schema,
        annotations=types.ToolAnnotations(
            title=spec.title,
            read_only_hint=a.read_only,
            destructive_hint=a.destructive,
            idempotent_hint=a.idempotent,
            open_world_hint=a.open_world,
        ),
        meta={"io.sagemcp/group": spec.group},
    )


def resource_to_mcp(spec: ResourceSpec) -> types.Resource:
    return types.Resource(
        name=spec.name, title=spec.title, uri=spec.uri, description=spec.description or None, mime_type=spec.mime_type
    )


def template_to_mcp(spec: ResourceSpec) -> types.ResourceTemplate:
    return types.ResourceTemplate(
        name=spec.name,
        title=spec.title,
        uri_template=spec.uri,
        description=spec.description or None,
        mime_type=spec.mime_type,
    )


def prompt_to_mcp(spec: PromptSpec, served_name: str) -> types.Prompt:
    return types.Prompt(
        name=served_name,
        title=spec.title,
        description=spec.description or None,
        arguments=[
            types.PromptArgument(name=a.name, description=a.description, required=a.required) for a in spec.arguments
        ],
    )


def content_to_mcp(part: Content) -> types.ContentBlock:
    if isinstance(part, Text):
        return types.TextContent(type="text", text=part.text)
    if isinstance(part, Image):
        return types.ImageContent(type="image", data=part.data, mime_type=part.mime_type)
    if isinstance(part, Audio):
        return types.AudioContent(type="audio", data=part.data, mime_type=part.mime_type)
    if isinstance(part, EmbeddedResource):
        return types.EmbeddedResource(type="resource", resource=resource_contents_to_mcp(part.resource))
    raise TypeError(f"unsupported content part {type(part).__name__}")


def resource_contents_to_mcp(rc: ResourceContent) -> types.TextResourceContents | types.BlobResourceContents:
    if rc.blob is not None:
        return types.BlobResourceContents(uri=rc.uri, mime_type=rc.mime_type, blob=rc.blob)
    return types.TextResourceContents(uri=rc.uri, mime_type=rc.mime_type, text=rc.text or "")


def resource_value_to_contents(
    value: Any, uri: str, mime_type: str | None
) -> list[types.TextResourceContents | types.BlobResourceContents]:
    """What a resource function returned (str, bytes, ResourceContent or a list of them) as MCP contents."""
    items = value if isinstance(value, list) else [value]
    out: list[types.TextResourceContents | types.BlobResourceContents] = []
    for item in items:
        if isinstance(item, ResourceContent):
            out.append(resource_contents_to_mcp(item))
        elif isinstance(item, bytes):
            blob = base64.b64encode(item).decode("ascii")
            out.append(
                types.BlobResourceContents(uri=uri, mime_type=mime_type or "application/octet-stream", blob=blob)
            )
        elif isinstance(item, str):
            out.append(types.TextResourceContents(uri=uri, mime_type=mime_type or "text/plain", text=item))
        else:
            text = _to_json(item)
            out.append(types.TextResourceContents(uri=uri, mime_type=mime_type or "application/json", text=text))
    return out


def prompt_messages_to_mcp(value: Any) -> list[types.PromptMessage]:
    if isinstance(value, str):
        return [types.PromptMessage(role="user", content=types.TextContent(type="text", text=value))]
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            item = PromptMessage(role="user", content=Text(item))
        if not isinstance(item, PromptMessage):
            raise TypeError(f"a prompt must return str or PromptMessage, not {type(item).__name__}")
        out.append(types.PromptMessage(role=item.role, content=content_to_mcp(item.content)))
    return out


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def tool_value_to_result(spec: ToolSpec, value: Any, max_chars: int) -> types.CallToolResult:
    """A tool's return value as a result: structured content plus a compact text rendering, capped in size."""
    if isinstance(value, ToolResult):
        parts = [content_to_mcp(p) for p in value.content]
        return types.CallToolResult(
            content=_cap_parts(parts, max_chars), structured_content=value.structured, is_error=value.is_error
        )
    if isinstance(value, str) and spec.output_adapter is None:
        return types.CallToolResult(content=[types.TextContent(type="text", text=_cap_text(value, max_chars))])
    structured = spec.structured(value)
    text = _render(value, structured)
    if structured is not None and len(text) > max_chars:
        return error_result(
            f"The result of {spec.name} is {len(text)} characters, over this server's limit of {max_chars}. "
            "Ask for less: use a smaller limit, a narrower query, or page with the cursor."
        )
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=_cap_text(text, max_chars))], structured_content=structured
    )


def _render(value: Any, structured: dict[str, Any] | None) -> str:
    to_markdown = getattr(value, "to_markdown", None)
    if callable(to_markdown):
        return str(to_markdown())
    if structured is not None:
        return _to_json(structured)
    return value if isinstance(value, str) else _to_json(value)


def _to_json(value: Any) -> str:
    if isinstance(value, BaseModel):
        return value.model_dump_json(exclude_none=True)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _cap_text(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars] + TRUNCATION_MARKER.format(shown=max_chars, total=len(text))


def _cap_parts(parts: list[types.ContentBlock], max_chars: int) -> list[types.ContentBlock]:
    out: list[types.ContentBlock] = []
    for p in parts:
        if isinstance(p, types.TextContent):
            out.append(types.TextContent(type="text", text=_cap_text(p.text, max_chars)))
        else:
            out.append(p)
    return out
