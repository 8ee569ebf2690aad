"""`ConformanceConnector`: the tools, resources and prompts the official MCP conformance suite calls.

The suite (`@modelcontextprotocol/conformance`, `conformance server`) expects a server
exposing fixed names (`test_simple_text`, `test://static-text`, `test_simple_prompt`, ...)
with fixed behaviour; the expectations are in the scenario sources of the npm package.
With connector id `test`, sagemcp's `{id}_{action}` naming yields exactly those names.

This module uses only sagemcp's public core API and never imports the MCP SDK, as every
connector must: if the suite passes through it, the adapter carries every kind of
content, progress, logging, sampling and elicitation a connector can express.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Annotated, Any, Literal

from pydantic import Field

from sagemcp import (
    Audio,
    Completion,
    Connector,
    ConnectorInfo,
    ElicitInput,
    ElicitResult,
    EmbeddedResource,
    Image,
    InputRequest,
    NoAuth,
    PromptMessage,
    ResourceContent,
    RootsInput,
    RootsResult,
    SampleInput,
    SamplingResult,
    Text,
    ToolContext,
    ToolResult,
    prompt,
    resource,
    tool,
)

__all__ = ["ConformanceConnector", "JsonSchemaConnector"]

# A 1x1 red PNG and a 1 ms, 8 kHz, 8-bit mono WAV of silence, base64-encoded.
RED_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
SILENT_WAV = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA=="

# The pause between the notifications of the logging and progress tools (the suite asks for ~50 ms),
# so that the client sees them arrive one by one while the call is running.
STEP_SECONDS = 0.05

USER_INFO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"},
    },
    "required": ["username", "email"],
}

# SEP-1034: a default value for every primitive type.
DEFAULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Your name", "default": "John Doe"},
        "age": {"type": "integer", "description": "Your age", "default": 30},
        "score": {"type": "number", "description": "Your score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "Your status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Whether you are verified", "default": True},
    },
}

# SEP-1330: the five ways to express a choice.
ENUMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {
            "type": "string",
            "description": "Untitled single-select",
            "enum": ["option1", "option2", "option3"],
        },
        "titledSingle": {
            "type": "string",
            "description": "Titled single-select",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "description": "Legacy titled single-select (enumNames is deprecated)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "Untitled multi-select",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "description": "Titled multi-select",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
}


def _form(message: str, field: str, kind: str = "string") -> ElicitInput:
    """A one-field elicitation form (the shape the input-required scenarios ask for)."""
    return ElicitInput(message, {"type": "object", "properties": {field: {"type": kind}}, "required": [field]})


def _field(answer: object, name: str) -> object:
    return (answer.content or {}).get(name) if isinstance(answer, ElicitResult) else None


# Completion vocabularies: prompt argument values and template ids.
PROMPT_SUGGESTIONS = ("paris", "park", "party", "test", "testing", "tested")
TEMPLATE_ID_SUGGESTIONS = ("1", "2", "3", "42", "123")


class ConformanceConnector(Connector):
    """Every tool, resource, resource template, prompt and completion the conformance suite's server scenarios use."""

    info = ConnectorInfo(
        id="test",
        title="MCP conformance",
        description="The fixtures of the official MCP conformance suite; for testing sagemcp, not for production.",
        version="1",
    )
    auth = (NoAuth(),)

    # -- tools: content types ------------------------------------------------------------

    @tool(read_only=True, group="conformance", open_world=False)
    async def simple_text(self, ctx: ToolContext) -> str:
        """Return one fixed text content part."""
        return "This is a simple text response for testing."

    @tool(read_only=True, group="conformance", open_world=False)
    async def image_content(self, ctx: ToolContext) -> ToolResult:
        """Return one image content part: a 1x1 red PNG."""
        return ToolResult(content=[Image(data=RED_PIXEL_PNG, mime_type="image/png")])

    @tool(read_only=True, group="conformance", open_world=False)
    async def audio_content(self, ctx: ToolContext) -> ToolResult:
        """Return one audio content part: a very short silent WAV."""
        return ToolResult(content=[Audio(data=SILENT_WAV, mime_type="audio/wav")])

    @tool(read_only=True, group="conformance", open_world=False)
    async def embedded_resource(self, ctx: ToolContext) -> ToolResult:
        """Return one embedded text resource, `test://embedded-resource`."""
        embedded = ResourceContent(
            uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
        )
        return ToolResult(content=[EmbeddedResource(embedded)])

    @tool(read_only=True, group="conformance", open_world=False)
    async def multiple_content_types(self, ctx: ToolContext) -> ToolResult:
        """Return three content parts: a text, a PNG image and an embedded JSON resource."""
        data = ResourceContent(
            uri="test://mixed-content-resource",
            mime_type="application/json",
            text=json.dumps({"test": "data", "value": 123}),
        )
        return ToolResult(
            content=[
                Text("Multiple content types test:"),
                Image(data=RED_PIXEL_PNG, mime_type="image/png"),
                EmbeddedResource(data),
            ]
        )

    @tool(read_only=True, group="conformance", open_world=False)
    async def error_handling(self, ctx: ToolContext) -> ToolResult:
        """Always fail: return a tool error (`isError: true`) with a message."""
        return ToolResult(content=[Text("This tool intentionally returns an error for testing")], is_error=True)

    # -- tools: notifications during a call ----------------------------------------------

    @tool(read_only=True, group="conformance", open_world=False)
    async def tool_with_logging(self, ctx: ToolContext) -> str:
        """Send three info-level log notifications, about 50 ms apart, then return a confirmation."""
        await ctx.client.log("info", "Tool execution started", logger="conformance")
        await asyncio.sleep(STEP_SECONDS)
        await ctx.client.log("info", "Tool processing data", logger="conformance")
        await asyncio.sleep(STEP_SECONDS)
        await ctx.client.log("info", "Tool execution completed", logger="conformance")
        return "Tool with logging executed successfully."

    @tool(read_only=True, group="conformance", open_world=False)
    async def tool_with_progress(self, ctx: ToolContext) -> str:
        """Report progress 0/100, 50/100 and 100/100, about 50 ms apart, then return a confirmation."""
        await ctx.report_progress(0, 100, "Starting")
        await asyncio.sleep(STEP_SECONDS)
        await ctx.report_progress(50, 100, "Half way")
        await asyncio.sleep(STEP_SECONDS)
        await ctx.report_progress(100, 100, "Done")
        return "Tool with progress executed successfully."

    # -- tools: requests to the client ---------------------------------------------------

    @tool(read_only=True, group="conformance", open_world=False)
    async def sampling(
        self, ctx: ToolContext, prompt: Annotated[str, Field(description="The prompt to send to the client's LLM")]
    ) -> str:
        """Ask the client's LLM to answer `prompt` (sampling/createMessage) and return its answer."""
        answer = await ctx.client.sample(prompt, max_tokens=100)
        return f"LLM response: {answer.text if answer.text is not None else '(no text)'}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def elicitation(
        self, ctx: ToolContext, message: Annotated[str, Field(description="The message to show the user")]
    ) -> str:
        """Ask the user for a username and an email address (elicitation/create) and return the answer."""
        answer = await ctx.client.elicit(message, USER_INFO_SCHEMA)
        return f"User response: action={answer.action}, content={json.dumps(answer.content)}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def elicitation_sep1034_defaults(self, ctx: ToolContext) -> str:
        """Ask the user for a form whose string, integer, number, enum and boolean fields have defaults (SEP-1034)."""
        answer = await ctx.client.elicit("Please review and update the form fields with defaults", DEFAULTS_SCHEMA)
        return f"Elicitation completed: action={answer.action}, content={json.dumps(answer.content)}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def elicitation_sep1330_enums(self, ctx: ToolContext) -> str:
        """Ask the user for a form with the five kinds of enum field of SEP-1330 (titled, untitled, legacy, multi)."""
        answer = await ctx.client.elicit("Please select options from the enum fields", ENUMS_SCHEMA)
        return f"Elicitation completed: action={answer.action}, content={json.dumps(answer.content)}"

    # -- tools: input rounds (2026-07-28) and the same asks sent at once (2025-11-25) ---------

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_elicitation(self, ctx: ToolContext) -> str:
        """Ask for the user's name (one elicitation) and greet them."""
        answers = await ctx.client.ask({"user_name": _form("What is your name?", "name")})
        return f"Hello, {_field(answers['user_name'], 'name')}!"

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_sampling(self, ctx: ToolContext) -> str:
        """Ask the client's model for the capital of France and return its answer."""
        answers = await ctx.client.ask({"capital_question": SampleInput("What is the capital of France?", 100)})
        answer = answers["capital_question"]
        return f"LLM response: {answer.text if isinstance(answer, SamplingResult) else ''}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_list_roots(self, ctx: ToolContext) -> str:
        """Ask the client for its roots and name them."""
        answer = (await ctx.client.ask({"client_roots": RootsInput()}))["client_roots"]
        roots = answer.roots if isinstance(answer, RootsResult) else []
        return "Roots: " + ", ".join(f"{r.name or ''} ({r.uri})" for r in roots)

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_request_state(self, ctx: ToolContext) -> str:
        """Ask for a confirmation; the answer comes back with the server's signed request state."""
        answer = (await ctx.client.ask({"confirm": _form("Please confirm", "ok", "boolean")}))["confirm"]
        return f"state-ok: confirmed={_field(answer, 'ok')}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_multiple_inputs(self, ctx: ToolContext) -> str:
        """Ask for a name, a generated greeting and the client's roots in one round."""
        answers = await ctx.client.ask(
            {
                "user_name": _form("What is your name?", "name"),
                "greeting": SampleInput("Generate a greeting", 50),
                "client_roots": RootsInput(),
            }
        )
        greeting = answers["greeting"]
        roots = answers["client_roots"]
        return (
            f"name={_field(answers['user_name'], 'name')}, "
            f"greeting={greeting.text if isinstance(greeting, SamplingResult) else ''}, "
            f"roots={len(roots.roots) if isinstance(roots, RootsResult) else 0}"
        )

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_multi_round(self, ctx: ToolContext) -> str:
        """Ask for a name, then (a second round) a favourite colour."""
        name = _field((await ctx.client.ask({"step1": _form("Step 1: What is your name?", "name")}))["step1"], "name")
        step2 = _form("Step 2: What is your favorite color?", "color")
        color = _field((await ctx.client.ask({"step2": step2}))["step2"], "color")
        return f"{name} likes {color}."

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_tampered_state(self, ctx: ToolContext) -> str:
        """Ask for a confirmation; a retry whose request state was altered is refused."""
        answer = (await ctx.client.ask({"confirm": _form("Please confirm", "ok", "boolean")}))["confirm"]
        return f"confirmed={_field(answer, 'ok')}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def input_required_result_capabilities(self, ctx: ToolContext) -> str:
        """Ask only what the client declared it can answer: elicitation, sampling, or both."""
        wanted: dict[str, InputRequest] = {}
        if ctx.client.supports("elicitation"):
            wanted["user_name"] = _form("What is your name?", "name")
        if ctx.client.supports("sampling"):
            wanted["capital_question"] = SampleInput("What is the capital of France?", 100)
        if not wanted:
            return "The client declared neither elicitation nor sampling; nothing to ask."
        answers = await ctx.client.ask(wanted)
        return f"Answered: {', '.join(sorted(answers))}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def missing_capability(self, ctx: ToolContext) -> str:
        """Needs sampling: a client that did not declare it gets -32021."""
        answer = await ctx.client.sample("Say hello", max_tokens=20)
        return f"LLM response: {answer.text or ''}"

    @tool(read_only=True, group="conformance", open_world=False)
    async def streaming_elicitation(self, ctx: ToolContext) -> str:
        """Report progress, then ask for a name (an input round on 2026-07-28, never a request on the stream)."""
        await ctx.report_progress(0, 1, "Asking")
        answer = (await ctx.client.ask({"user_name": _form("What is your name?", "name")}))["user_name"]
        return f"Hello, {_field(answer, 'name')}!"

    @tool(read_only=True, group="conformance", open_world=False)
    async def logging_tool(self, ctx: ToolContext) -> str:
        """Log at info level; on 2026-07-28 the log reaches only clients that asked for a log level."""
        await ctx.client.log("info", "logging tool ran", logger="conformance")
        return "Logged."

    # -- resources -----------------------------------------------------------------------

    @resource("test://static-text", name="static_text", title="Static text", mime_type="text/plain")
    async def static_text(self, ctx: ToolContext) -> str:
        """A fixed text resource."""
        return "This is the content of the static text resource."

    @resource("test://static-binary", name="static_binary", title="Static binary", mime_type="image/png")
    async def static_binary(self, ctx: ToolContext) -> bytes:
        """A fixed binary resource: a 1x1 red PNG."""
        return base64.b64decode(RED_PIXEL_PNG)

    @resource("test://watched-resource", name="watched_resource", title="Watched resource", mime_type="text/plain")
    async def watched_resource(self, ctx: ToolContext) -> str:
        """A text resource clients may subscribe to."""
        return "This resource is watched for changes."

    @resource("test://template/{id}/data", name="template_data", title="Data by id", mime_type="application/json")
    async def template_data(self, ctx: ToolContext, id: str) -> str:
        """JSON data for the `id` in the URI (a resource template)."""
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    # -- prompts -------------------------------------------------------------------------

    @prompt(title="Simple prompt")
    async def simple_prompt(self, ctx: ToolContext) -> str:
        """A prompt without arguments: one fixed user message."""
        return "This is a simple prompt for testing."

    @prompt(title="Prompt with arguments")
    async def prompt_with_arguments(
        self,
        ctx: ToolContext,
        arg1: Annotated[str, Field(description="First test argument")],
        arg2: Annotated[str, Field(description="Second test argument")],
    ) -> str:
        """A prompt with two required arguments, substituted into its message."""
        return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"

    @prompt(title="Prompt with an embedded resource")
    async def prompt_with_embedded_resource(
        self,
        ctx: ToolContext,
        resourceUri: Annotated[str, Field(description="URI of the resource to embed")],
    ) -> list[PromptMessage]:
        """A prompt embedding a text resource under the given URI, followed by an instruction."""
        embedded = ResourceContent(
            uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
        )
        return [
            PromptMessage(role="user", content=EmbeddedResource(embedded)),
            PromptMessage(role="user", content=Text("Please process the embedded resource above.")),
        ]

    @prompt(title="Prompt with an image")
    async def prompt_with_image(self, ctx: ToolContext) -> list[PromptMessage]:
        """A prompt with a PNG image followed by an instruction."""
        return [
            PromptMessage(role="user", content=Image(data=RED_PIXEL_PNG, mime_type="image/png")),
            PromptMessage(role="user", content=Text("Please analyze the image above.")),
        ]

    @prompt(title="Prompt asking for context")
    async def input_required_result_prompt(self, ctx: ToolContext) -> str:
        """A prompt that first asks the user which context to use (an input round on 2026-07-28)."""
        form = _form("What context should the prompt use?", "context")
        answer = (await ctx.client.ask({"user_context": form}))["user_context"]
        return f"Use this context: {_field(answer, 'context')}"

    # -- completion ----------------------------------------------------------------------

    async def complete(
        self, ctx: ToolContext, ref_type: str, ref_name: str, argument: str, value: str, context: dict[str, str]
    ) -> Completion:
        """Suggest prompt argument values and template ids starting with what was typed."""
        if ref_type == "prompt" and ref_name == "test_prompt_with_arguments":
            vocabulary: tuple[str, ...] = PROMPT_SUGGESTIONS
        elif ref_type == "resource" and ref_name == "test://template/{id}/data" and argument == "id":
            vocabulary = TEMPLATE_ID_SUGGESTIONS
        else:
            return Completion(values=[], total=0)
        values = [v for v in vocabulary if v.startswith(value)]
        return Completion(values=values, total=len(values), has_more=False)


# The input schema of the `json-schema-2020-12` scenario: 2020-12 keywords a signature cannot express.
JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


class JsonSchemaConnector(Connector):
    """The `json-schema-2020-12` scenario's tool, `json_schema_2020_12_tool` (connector id `json`): served
    beside the conformance connector on the tenant-wide endpoint, where names carry no prefix."""

    info = ConnectorInfo(
        id="json",
        title="JSON Schema 2020-12",
        description="A tool whose declared input schema uses JSON Schema 2020-12 keywords; for testing sagemcp.",
        version="1",
    )
    auth = (NoAuth(),)

    @tool(
        read_only=True,
        group="conformance",
        open_world=False,
        description="Tool with JSON Schema 2020-12 features",
        input_schema=JSON_SCHEMA_2020_12,
    )
    async def schema_2020_12_tool(
        self,
        ctx: ToolContext,
        name: str | None = None,
        address: dict[str, str] | None = None,
        contactMethod: Literal["phone", "email"] | None = None,  # the scenario's property name
        phone: str | None = None,
        email: str | None = None,
    ) -> str:
        """Echo how to reach the person."""
        how = phone if contactMethod == "phone" else email
        return f"{name or 'someone'} via {contactMethod or 'email'}: {how or ''}"
