"""`python -m sagemcp.scaffold ID --title TITLE [--base-url URL] [--auth KIND ...] [--dest DIR] [--spec FILE]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import SageMCPError
from . import AUTH_KINDS, next_steps, plan, write_package
from . import __doc__ as _doc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sagemcp.scaffold",
        description="Create a new sagemcp connector package: layout, entry point, tests and README.",
        epilog=(_doc or "").split("\n\n", 2)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("id", help="the connector id: 1-20 lowercase letters or digits (the tool-name prefix)")
    parser.add_argument("--title", required=True, help="the service's name, such as 'Zoom'")
    parser.add_argument("--base-url", help="the API's https base URL (default https://api.ID.example)")
    parser.add_argument(
        "--auth",
        nargs="+",
        choices=AUTH_KINDS,
        default=["bearer"],
        metavar="KIND",
        help=f"auth schemes, first one the default: {', '.join(AUTH_KINDS)} (default bearer)",
    )
    parser.add_argument("--dest", type=Path, default=Path("."), help="where to create sagemcp-connector-ID/")
    parser.add_argument("--spec", type=Path, help="the vendor description in DEST/specs/ID/ the tests check against")
    args = parser.parse_args(argv)
    try:
        made = plan(args.id, args.title, base_url=args.base_url, auth=args.auth, dest=args.dest, spec=args.spec)
        root = write_package(made)
    except SageMCPError as exc:
        print(f"python -m sagemcp.scaffold: error: {exc}", file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(f"python -m sagemcp.scaffold: error: {exc.filename} exists already; nothing was written", file=sys.stderr)
        return 2
    source = "the example description tests/openapi.json" if made.description is None else made.description
    print(f"created {root} (auth: {', '.join(made.auth)}; requests checked against {source})")
    print("next:")
    for number, step in enumerate(next_steps(made), 1):
        print(f"  {number}. {step}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
