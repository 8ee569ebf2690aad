"""A recording fake upstream for tests over real HTTP: what reached it, headers and query strings included."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Recorder", "Seen"]


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Recorder:
    """An ASGI upstream that records what reaches it.

    A path with `/go/` redirects (`status`) to `redirect_to` + `/landing`; a path in `answers`
    gets that JSON; anything else `{"served_by": name}`.
    """

    name: str
    redirect_to: str = ""
    status: int = 302
    answers: dict[str, Any] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.seen.append(Seen(scope["method"], scope["path"], scope["query_string"].decode(), headers, body))
        if "/go/" in scope["path"]:
            start = {"status": self.status, "headers": [(b"location", f"{self.redirect_to}/landing".encode())]}
            answer = b""
        else:
            start = {"status": 200, "headers": [(b"content-type", b"application/json")]}
            answer = json.dumps(self.answers.get(scope["path"], {"served_by": self.name})).encode()
        await send({"type": "http.response.start", **start})
        await send({"type": "http.response.body", "body": answer})
