"""Markdown reference of a connector's tools, generated from the class so docs cannot drift.

`python -m sagemcp.catalog module:Class` prints it; `--update FILE` rewrites the part of
FILE between `<!-- tools:start -->` and `<!-- tools:end -->`; `--check FILE` exits 1
when that part is out of date (run it in the connector's tests).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from ._auth import OAuth2
from ._connector import Connector
from ._models import ToolPolicy

__all__ = ["render_tools_markdown", "update_file"]

START, END = "<!-- tools:start -->", "<!-- tools:end -->"


def render_tools_markdown(cls: type[Connector]) -> str:
    """A Markdown section: tools by group with hints and scopes, then the auth schemes."""
    lines = [f"{len(cls.tools)} tools in {len(cls.groups())} groups.", ""]
    default = cls.info.default_groups
    for group in cls.groups():
        on = default is None or group in default
        lines += [
            f"### `{group}`{'' if on else ' (off by default)'}",
            "",
            "| Tool | Kind | Description |",
            "|---|---|---|",
        ]
        for spec in sorted((s for s in cls.tools.values() if s.group == group), key=lambda s: s.name):
            a = spec.annotations
            kind = "read" if a.read_only else ("write, destructive" if a.destructive else "write")
            first = spec.description.strip().splitlines()[0].replace("|", "\\|")
            lines.append(f"| `{spec.name}` | {kind} | {first} |")
        lines.append("")
    oauth = cls.oauth2()
    if oauth is not None and (oauth.scopes or any(s.scopes for s in cls.tools.values())):
        lines += _scope_table(cls, oauth)
    kinds = ", ".join(
        f"`{s.kind}`" + (" (OAuth 2.0 authorization code)" if isinstance(s, OAuth2) else "") for s in cls.auth
    )
    lines += [f"Credential kinds accepted: {kinds}.", ""]
    return "\n".join(lines)


def _scope_table(cls: type[Connector], oauth: OAuth2) -> list[str]:
    """The scopes an authorization asks for when each group is enabled (from the tools' `scopes`)."""
    lines = ["### OAuth scopes by group", "", "| Group | Scopes |", "|---|---|"]
    lines.append(f"| (always) | {', '.join(f'`{s}`' for s in oauth.scopes) or '-'} |")
    always = set(oauth.scopes)
    for group in cls.groups():
        policy = ToolPolicy(groups=[group])
        cells = [f"`{s}`" for s in cls.oauth_scopes(policy) if s not in always]
        for name, scopes in cls.linked_oauth_scopes(policy).items():
            cells += [f"`{s}` ({name} token)" for s in scopes]
        lines.append(f"| `{group}` | {', '.join(cells) or '-'} |")
    lines.append("")
    return lines


def update_file(path: Path, cls: type[Connector], *, check: bool = False) -> bool:
    """Rewrite the generated section of `path`; with `check`, only report whether it is current."""
    text = path.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{path} has no {START} ... {END} section")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{render_tools_markdown(cls)}{END}{tail}"
    if new == text:
        return True
    if not check:
        path.write_text(new)
    return False


def _load(target: str) -> type[Connector]:
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise SystemExit(f"{target} is not a Connector class")
    return cls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagemcp.catalog", description=__doc__)
    parser.add_argument("connector", help="module:Class")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--update", type=Path, metavar="FILE")
    group.add_argument("--check", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    cls = _load(args.connector)
    if args.update:
        update_file(args.update, cls)
    elif args.check:
        if not update_file(args.check, cls, check=True):
            print(f"{args.check} is out of date: run python -m sagemcp.catalog {args.connector} --update {args.check}")
            return 1
    else:
        sys.stdout.write(render_tools_markdown(cls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
