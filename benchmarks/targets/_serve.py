"""Running a target: one uvicorn worker, quiet logs, the same settings for every target."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def common_arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL of the fake GitHub API")
    parser.add_argument("--catalog", type=Path, help="tools/list JSON to serve (the sagemcp connector's tools)")
    parser.add_argument("--stateful", action="store_true", help="keep sessions (2025-11-25 with Mcp-Session-Id)")
    parser.add_argument("--loop", default="auto", help="uvicorn event loop (auto, asyncio, uvloop)")
    parser.add_argument("--http", default="auto", help="uvicorn HTTP implementation (auto, h11, httptools)")
    return parser


def load_catalog(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        from ._connector import connector_class, tool_catalog

        return tool_catalog(connector_class()[0])
    return json.loads(path.read_text())


def run(app: Any, args: argparse.Namespace) -> None:
    import uvicorn

    print(f"ready to serve on 127.0.0.1:{args.port} (pid {os.getpid()})", flush=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        loop=args.loop,
        http=args.http,
        backlog=2048,
        timeout_keep_alive=60,
    )
