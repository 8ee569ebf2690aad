"""`demo`: a connector that needs no account anywhere, so a fresh server has tools to list and call.

`sagemcp serve --demo` adds it to the `demo` tenant. Its tools do not leave the server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from sagemcp import Connector, ConnectorInfo, NoAuth, ToolContext, tool

from .. import __version__

__all__ = ["DemoConnector"]


class Sum(BaseModel):
    a: float
    b: float
    sum: float


class ServerTime(BaseModel):
    utc: str = Field(description="The server's time in ISO 8601, UTC.")
    unix: float


class DemoConnector(Connector):
    info = ConnectorInfo(
        id="demo",
        title="Demo",
        description="Tools that need no upstream account: echo text, add numbers, tell the time.",
        homepage="https://github.com/sagemcp/sagemcp",
        version=__version__,
    )
    auth = (NoAuth(),)

    @tool(read_only=True, group="basics", open_world=False)
    async def echo(
        self, ctx: ToolContext, text: Annotated[str, Field(max_length=10_000, description="The text to return.")]
    ) -> str:
        """Return the text unchanged (a quick check that the connection works)."""
        return text

    @tool(read_only=True, group="basics", open_world=False)
    async def add(self, ctx: ToolContext, a: float, b: float) -> Sum:
        """Add two numbers."""
        return Sum(a=a, b=b, sum=a + b)

    @tool(read_only=True, group="basics", open_world=False)
    async def server_time(self, ctx: ToolContext) -> ServerTime:
        """The current time on the server, in UTC."""
        now = datetime.now(UTC)
        return ServerTime(utc=now.isoformat(), unix=now.timestamp())
