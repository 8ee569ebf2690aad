"""Shared test fixtures: a small connector and a fake upstream; `serve` (a real HTTP server in the test's
event loop) comes from `sagemcp.testing`."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import httpx2
from pydantic import BaseModel, Field

from sagemcp import (
    BearerToken,
    Completion,
    Connector,
    ConnectorInfo,
    ConnectorSettings,
    ToolContext,
    prompt,
    resource,
    tool,
)
from sagemcp.testing import free_port, serve

__all__ = ["FakeNotesApi", "Note", "NoteList", "NotesConfig", "NotesConnector", "free_port", "http2_client", "serve"]


class Note(BaseModel):
    id: int
    title: str


class NoteList(BaseModel):
    items: list[Note]
    next_cursor: str | None = None


class NotesConfig(ConnectorSettings):
    region: str = "eu"


class NotesConnector(Connector):
    """A connector to a fake notes API, exercising every feature the adapter serves."""

    info = ConnectorInfo(
        id="notes", title="Notes", description="A fake notes service.", default_groups=("read", "write")
    )
    auth = (BearerToken(),)
    Config = NotesConfig
    base_url = "https://notes.example"

    def upstream_headers(self, config: BaseModel, credential: Any) -> dict[str, str]:
        return {"X-Region": getattr(config, "region", "")}

    @tool(read_only=True, group="read")
    async def list_notes(
        self, ctx: ToolContext, limit: Annotated[int, Field(ge=1, le=50, description="How many.")] = 10
    ) -> NoteList:
        """List the tenant's notes, newest first."""
        r = await ctx.http.get("/notes", params={"limit": limit})
        return NoteList(items=[Note(**n) for n in r.json()["notes"]])

    @tool(read_only=True, group="read")
    async def get_note(self, ctx: ToolContext, note_id: Annotated[int, Field(description="The note id.")]) -> Note:
        """Get one note by id."""
        r = await ctx.http.get(f"/notes/{note_id}")
        return Note(**r.json())

    @tool(read_only=False, group="write", destructive=False)
    async def create_note(
        self, ctx: ToolContext, title: Annotated[str, Field(min_length=1, description="Title.")]
    ) -> Note:
        """Create a note and return it."""
        r = await ctx.http.post("/notes", json={"title": title})
        return Note(**r.json())

    @tool(read_only=False, group="admin", destructive=True)
    async def delete_all(self, ctx: ToolContext) -> str:
        """Delete every note of the tenant."""
        await ctx.http.delete("/notes")
        return "deleted"

    @tool(read_only=True, group="read")
    async def crash(self, ctx: ToolContext) -> str:
        """Fail with an internal error (for tests)."""
        raise RuntimeError("secret internal detail /etc/passwd")

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, str]:
        """Say which tenant and connector the call runs for."""
        return {"tenant": ctx.tenant.slug, "connector": ctx.connector.name}

    @resource("notes://note/{note_id}", mime_type="application/json")
    async def note_resource(self, ctx: ToolContext, note_id: str) -> str:
        """A note as JSON."""
        r = await ctx.http.get(f"/notes/{note_id}")
        return r.text

    @prompt()
    async def summarize(self, ctx: ToolContext, topic: str) -> str:
        """Ask for a summary of notes about a topic."""
        return f"Summarize my notes about {topic}."

    async def complete(
        self, ctx: ToolContext, ref_type: str, ref_name: str, argument: str, value: str, context: dict[str, str]
    ) -> Completion:
        options = ["alpha", "beta", "gamma"]
        return Completion(values=[o for o in options if o.startswith(value)])


class FakeNotesApi:
    """An httpx MockTransport handler that records requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.notes = {1: "first", 2: "second"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization", "").split(" ")[-1] not in ("tok-a", "tok-b"):
            return httpx.Response(401, json={"message": "bad token"})
        path = request.url.path
        if path == "/notes" and request.method == "GET":
            return httpx.Response(200, json={"notes": [{"id": k, "title": v} for k, v in self.notes.items()]})
        if path == "/notes" and request.method == "POST":
            import json

            nid = max(self.notes) + 1
            self.notes[nid] = json.loads(request.content)["title"]
            return httpx.Response(201, json={"id": nid, "title": self.notes[nid]})
        if path.startswith("/notes/") and request.method == "GET":
            nid = int(path.rsplit("/", 1)[1])
            if nid not in self.notes:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"id": nid, "title": self.notes[nid]})
        return httpx.Response(404, json={"message": "Not Found"})


def http2_client(key: str | None) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(10.0))
