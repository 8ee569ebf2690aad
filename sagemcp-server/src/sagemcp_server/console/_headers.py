"""Security headers on every `/console` response: a strict Content-Security-Policy, no framing, no caching.

A pure ASGI middleware so that every answer under the prefix gets them, including the
static files and the 404 of a path no route matches. Everything is `no-store`: pages show
per-person data, and the few static files are small.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONSOLE_CSP", "CONSOLE_HEADERS", "ConsoleHeadersMiddleware"]

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

CONSOLE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_ENCODED = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in CONSOLE_HEADERS.items()]
_NAMES = {k for k, _ in _ENCODED}


class ConsoleHeadersMiddleware:
    """Set `CONSOLE_HEADERS` (replacing any the page set) on HTTP responses under `prefix`."""

    def __init__(self, app: ASGIApp, prefix: str = "/console") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                headers.extend(_ENCODED)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
