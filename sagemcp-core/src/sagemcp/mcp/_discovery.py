"""Discovery mode: a handful of meta-tools in place of a tenant's whole catalogue.

On the tenant-wide endpoint a tenant, and on a connector's own endpoint that connector (or,
on either, one API key) may choose to show the client three meta-tools — `search_tools`,
`describe_tool`, `call_tool` — plus the few tools it pins, instead of every enabled tool: a
model then spends a few hundred tokens on the catalogue and finds the rest by asking. The
meta-tools only ever see the caller's served tools (the connectors and tool policy of
`tools/list`; on a connector's endpoint, that connector's alone), so a disabled tool cannot
be found, described or called through them; `call_tool` runs the real tool through the same
pipeline as a direct `tools/call` (policy, read-only mode, credentials, audit of the real tool).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import mcp_types as types
from pydantic import BaseModel, ConfigDict, Field

from .._tools import ToolSpec
from .._toolsearch import ToolDoc, ToolIndex
from ._convert import tool_to_mcp
from ._resolve import CallScope, Target

__all__ = ["CALL", "DESCRIBE", "META_TOOLS", "SEARCH", "Catalogue", "discovery_on", "meta_tools", "pinned_names"]

SEARCH = "search_tools"
DESCRIBE = "describe_tool"
CALL = "call_tool"
META_TOOLS = (SEARCH, DESCRIBE, CALL)

MAX_RESULTS = 25


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchArgs(_Args):
    query: Annotated[
        str,
        Field(min_length=1, max_length=500, description="What you want to do, in words (e.g. 'open PRs to review')."),
    ]
    connector: Annotated[
        str | None, Field(default=None, max_length=63, description="Only this connector's tools (type or name).")
    ] = None
    group: Annotated[
        str | None, Field(default=None, max_length=63, description="Only tools of this group (e.g. 'issues').")
    ] = None
    limit: Annotated[int, Field(default=8, ge=1, le=MAX_RESULTS, description="How many tools to return.")] = 8


class DescribeArgs(_Args):
    name: Annotated[str, Field(min_length=1, max_length=200, description="A tool name from search_tools.")]


class CallArgs(_Args):
    name: Annotated[str, Field(min_length=1, max_length=200, description="A tool name from search_tools.")]
    arguments: Annotated[
        dict[str, Any], Field(default_factory=dict, description="The tool's arguments, as describe_tool shows them.")
    ]


_DESCRIPTIONS = {
    SEARCH: (
        "Find the tools that can do what you need among every tool of this workspace. Use it first, with "
        "words describing the task; narrow with connector or group. Returns the best matches: name, a "
        "one-line description and whether the tool only reads."
    ),
    DESCRIBE: (
        "Show one tool's full definition: its description, input schema and annotations. Use it before "
        "call_tool to learn the arguments a tool takes."
    ),
    CALL: (
        "Run one tool by name with its arguments (see describe_tool). Returns the tool's own result; the "
        "workspace's tool policy, read-only mode and your connections apply as to any call."
    ),
}
_MODELS: dict[str, type[_Args]] = {SEARCH: SearchArgs, DESCRIBE: DescribeArgs, CALL: CallArgs}
_READ_ONLY = {SEARCH: True, DESCRIBE: True, CALL: False}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)  # the property's name says it; no title noise for the model to read
        if "anyOf" in prop:  # `str | None`: the optional string, as a model reads it
            kinds = [k for k in prop.pop("anyOf") if k.get("type") != "null"]
            prop.update(kinds[0])
            if prop.get("default", 0) is None:
                del prop["default"]
    schema.pop("title", None)
    return schema


def meta_tools() -> list[types.Tool]:
    """The three meta-tools as the SDK's tools."""
    return [
        types.Tool(
            name=name,
            title=name.replace("_", " ").capitalize(),
            description=_DESCRIPTIONS[name],
            input_schema=_schema(_MODELS[name]),
            annotations=types.ToolAnnotations(
                read_only_hint=_READ_ONLY[name],
                destructive_hint=False if _READ_ONLY[name] else None,
                open_world_hint=not _READ_ONLY[name],
            ),
        )
        for name in META_TOOLS
    ]


def arguments_model(name: str) -> type[_Args]:
    return _MODELS[name]


def discovery_on(cs: CallScope) -> bool:
    """Whether this caller is served the meta-tools: by its key's choice when the key makes one, else
    by the tenant's setting on the tenant-wide endpoint and by the connector's on a connector's endpoint."""
    chosen = cs.principal.discovery
    if chosen is not None:
        return chosen
    if cs.tenant_wide:
        return cs.tenant.discovery
    return len(cs.targets) == 1 and cs.targets[0].config.discovery


def pinned_names(cs: CallScope) -> list[str]:
    """The tools this caller's endpoint pins beside the meta-tools, by served name: the tenant's on the
    tenant-wide endpoint, the connector's own on a connector's endpoint."""
    if cs.tenant_wide:
        return cs.tenant.pinned_tools
    return cs.targets[0].config.pinned_tools if len(cs.targets) == 1 else []


def first_line(text: str) -> str:
    """The first sentence or line of a description: what a search result shows."""
    line = text.strip().split("\n", 1)[0].strip()
    end = line.find(". ")
    return line[: end + 1] if end > 0 else line


@dataclass
class Entry:
    target: Target
    spec: ToolSpec
    served: str


class Catalogue:
    """The tools one caller may reach through the meta-tools, by served name, and their search index."""

    def __init__(self, cs: CallScope) -> None:
        self.entries: dict[str, Entry] = {}
        docs: list[ToolDoc] = []
        for target in cs.targets:
            for spec in target.tools.values():
                served = target.served_name(spec.name, cs.tenant_wide)
                self.entries[served] = Entry(target, spec, served)
                properties = spec.input_schema.get("properties") or {}
                docs.append(
                    ToolDoc(
                        name=served,
                        connector=target.cls.info.id,
                        group=spec.group,
                        title=spec.title,
                        description=spec.description,
                        parameters=tuple(properties),
                    )
                )
        self.index = ToolIndex(docs)
        self.connector_names = {t.config.name: t for t in cs.targets}
        self.connector_types = {t.cls.info.id for t in cs.targets}
        self.groups = sorted({e.spec.group for e in self.entries.values()})

    def pinned(self, names: list[str]) -> list[types.Tool]:
        """The pinned tools the caller may use, in the order pinned (pins of disabled tools are left out)."""
        out = []
        for name in names:
            entry = self.entries.get(name)
            if entry is not None:
                out.append(tool_to_mcp(entry.spec, entry.served))
        return out

    def search(self, args: SearchArgs) -> dict[str, Any]:
        """Ranked compact results, or a tool error body saying what to change."""
        only: Target | None = None
        kind: str | None = None
        if args.connector is not None:
            only = self.connector_names.get(args.connector)
            if only is None:
                if args.connector not in self.connector_types:
                    known = sorted(set(self.connector_names) | self.connector_types)
                    raise ValueError(f"No connector {args.connector!r} here. Connectors: {', '.join(known) or 'none'}.")
                kind = args.connector
        if args.group is not None and args.group not in self.groups:
            raise ValueError(f"No tool group {args.group!r} here. Groups: {', '.join(self.groups) or 'none'}.")
        ranked = self.index.search(
            args.query,
            connector=kind,
            group=args.group,
            limit=len(self.index) if only is not None else args.limit,
        )
        results = []
        for doc, _score in ranked:
            entry = self.entries[doc.name]
            if only is not None and entry.target is not only:
                continue
            results.append(
                {
                    "name": doc.name,
                    "description": first_line(doc.description),
                    "read_only": entry.spec.annotations.read_only,
                }
            )
            if len(results) >= args.limit:
                break
        return {"tools": results}

    def describe(self, name: str) -> dict[str, Any]:
        entry = self.entries.get(name)
        if entry is None:
            raise LookupError(name)
        return tool_to_mcp(entry.spec, entry.served).model_dump(mode="json", by_alias=True, exclude_none=True)


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
