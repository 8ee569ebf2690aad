"""Running a target: one uvicorn worker with the tuning every target shares (`_tuning`)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from . import _tuning


def common_arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL of the fake GitHub API")
    parser.add_argument("--catalog", type=Path, help="tools/list JSON to serve (the sagemcp connector's tools)")
    parser.add_argument("--echo-catalog", type=Path, help="tools/list JSON of the echo path (the demo connector's)")
    parser.add_argument("--stateful", action="store_true", help="keep sessions (2025-11-25 with Mcp-Session-Id)")
    parser.add_argument("--loop", default=_tuning.LOOP, help=f"uvicorn event loop (default {_tuning.LOOP})")
    parser.add_argument("--http", default=_tuning.HTTP, help=f"uvicorn HTTP implementation (default {_tuning.HTTP})")
    return parser


def load_catalog(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        from ._connector import connector_class, tool_catalog

        return tool_catalog(connector_class()[0])
    catalog: list[dict[str, Any]] = json.loads(path.read_text())
    return catalog


def load_echo_catalog(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        from ._connector import echo_catalog

        return echo_catalog()
    catalog: list[dict[str, Any]] = json.loads(path.read_text())
    return catalog


def run(app: Any, args: argparse.Namespace) -> None:
    import uvicorn

    print(f"ready to serve on 127.0.0.1:{args.port} (pid {os.getpid()})", flush=True)
    uvicorn.run(_tuning.FreezeAfterStartup(app), port=args.port, **_tuning.uvicorn_options(args.loop, args.http))
