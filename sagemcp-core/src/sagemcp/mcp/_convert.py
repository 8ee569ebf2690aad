"""Conversion between core's protocol-neutral shapes and the MCP SDK's types."""

from __future__ import annotations

import base64
from typing import Any

import mcp_types as types

from .._connector import Connector
from .._content import Audio, Content, EmbeddedResource, Image, PromptMessage, ResourceContent, Text
from .._models import ToolPolicy
from .._prompts import PromptSpec
from .._resources import ResourceSpec
from .._results import ToolOutcome, to_json
from .._tools import ToolSpec


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


def tool_listing(cls: type[Connector], policy: ToolPolicy | None = None) -> list[dict[str, Any]]:
    """The `tools/list` entries of a connector under `policy` (default: a new tenant's), as JSON.

    Exactly what this adapter serves on a single-connector endpoint, for catalogs,
    snapshots and servers that must list the same tools.
    """
    return [
        tool_to_mcp(spec, spec.name).model_dump(mode="json", by_alias=True, exclude_none=True)
        for spec in cls.enabled_tools(policy or ToolPolicy())
    ]


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
            text = to_json(item)
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


def outcome_to_mcp(outcome: ToolOutcome) -> types.CallToolResult:
    """A tool call's outcome as the SDK's result."""
    parts = outcome.content
    if len(parts) == 1 and type(parts[0]) is Text:  # the usual single text block, without a per-part dispatch
        blocks: list[types.ContentBlock] = [types.TextContent(type="text", text=parts[0].text)]
    else:
        blocks = [content_to_mcp(part) for part in parts]
    return types.CallToolResult(
        content=blocks,
        structured_content=outcome.structured,
        is_error=outcome.is_error,
    )
