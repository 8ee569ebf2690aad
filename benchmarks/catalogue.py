"""What the tool catalogue costs a model: tools, bytes and tokens of `tools/list`, and of tool results.

    python -m benchmarks.catalogue                  # measure; write results/catalogue.md and .json
    python -m benchmarks.catalogue --no-results     # the catalogue only (skips the fixture calls)
    python -m benchmarks.catalogue --reference DIR  # also measure published tool definitions (*.snap, *.json)
    python -m benchmarks.catalogue --update-budget  # rewrite results/catalogue-budget.json from this run

For each of the six connectors, with its default groups (what a new tenant serves) and with
every group, and for the tenant-wide endpoint serving all six, two forms of every tool:

- model-visible: what a client hands the model, `{name, title, description, inputSchema}`
  as compact JSON (`title` from the annotations when the tool has none of its own);
- wire: the `tools/list` entry as the MCP adapter serves it (`sagemcp.mcp.tool_listing`), with
  the output schema, annotations and `_meta`.

Each as bytes (UTF-8) and tokens (see `benchmarks._tokens`: cl100k_base when installed,
else a calibrated estimate), in total, on average and at most per tool. Then the results:
every sample call of the connectors' tests against their fixture-backed fakes
(`benchmarks._fixtures`), the text a model reads, per tool (median and largest).

`--reference DIR` measures another server's published definitions the same way: for the
official GitHub MCP server, its `pkg/github/__toolsnaps__/` (the files not ending in
`_typed.snap`), as `benchmarks/results/catalogue-budget.json` records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sagemcp import Connector
from sagemcp.mcp import tool_listing
from sagemcp.platform import ToolPolicy

from ._tokens import TokenCounter, counter

__all__ = [
    "CONNECTORS",
    "Form",
    "Measure",
    "connector_classes",
    "measure_catalogue",
    "model_visible",
    "serialise",
]

CONNECTORS = ("github", "google", "jira", "notion", "slack", "zoom")
RESULTS = Path(__file__).resolve().parent / "results"
RESULT_LIMIT = 25_000
"""No tool result may cost a model more tokens than this (the budget test enforces it)."""
BUDGET_FILE = RESULTS / "catalogue-budget.json"
BUDGET_MARGIN = 1.05
"""Budgets sit 5 % above the measured figures: room for a new parameter, not for a new habit."""


def serialise(value: Any) -> str:
    """Compact JSON, as the MCP SDK writes it on the wire."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def model_visible(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a `tools/list` entry a client shows the model."""
    view: dict[str, Any] = {"name": entry["name"]}
    title = entry.get("title") or (entry.get("annotations") or {}).get("title")
    if title:
        view["title"] = title
    if entry.get("description"):
        view["description"] = entry["description"]
    view["inputSchema"] = entry.get("inputSchema") or {"type": "object"}
    return view


def connector_classes() -> dict[str, type[Connector]]:
    """The six connectors, by id, from their installed entry points."""
    found = {ep.name: ep for ep in entry_points(group="sagemcp.connectors") if ep.name in CONNECTORS}
    missing = sorted(set(CONNECTORS) - set(found))
    if missing:
        raise SystemExit(f"connector packages not installed: {', '.join(missing)} (pip install -e sagemcp-connector-X)")
    return {name: found[name].load() for name in CONNECTORS}


def all_groups(cls: type[Connector]) -> ToolPolicy:
    return ToolPolicy(groups=cls.groups())


@dataclass(frozen=True)
class Form:
    """Sizes of one form (model-visible or wire) of a catalogue."""

    bytes: int
    tokens: int
    avg_bytes: float
    avg_tokens: float
    max_bytes: int
    max_tokens: int
    max_tool: str


@dataclass(frozen=True)
class Measure:
    name: str
    tools: int
    model: Form
    wire: Form
    per_tool: dict[str, dict[str, int]] = field(repr=False)


def _form(sizes: Sequence[tuple[str, int, int]]) -> Form:
    if not sizes:
        return Form(0, 0, 0.0, 0.0, 0, 0, "")
    biggest = max(sizes, key=lambda s: (s[2], s[0]))
    n = len(sizes)
    return Form(
        bytes=sum(s[1] for s in sizes),
        tokens=sum(s[2] for s in sizes),
        avg_bytes=round(sum(s[1] for s in sizes) / n, 1),
        avg_tokens=round(sum(s[2] for s in sizes) / n, 1),
        max_bytes=max(s[1] for s in sizes),
        max_tokens=biggest[2],
        max_tool=biggest[0],
    )


def measure_catalogue(name: str, entries: Iterable[Mapping[str, Any]], count: TokenCounter) -> Measure:
    """Sizes of a list of `tools/list` entries in both forms."""
    model: list[tuple[str, int, int]] = []
    wire: list[tuple[str, int, int]] = []
    per_tool: dict[str, dict[str, int]] = {}
    for entry in entries:
        tool = str(entry["name"])
        m, w = serialise(model_visible(entry)), serialise(dict(entry))
        sizes = (len(m.encode()), count(m), len(w.encode()), count(w))
        model.append((tool, sizes[0], sizes[1]))
        wire.append((tool, sizes[2], sizes[3]))
        per_tool[tool] = dict(zip(("model_bytes", "model_tokens", "wire_bytes", "wire_tokens"), sizes, strict=True))
    return Measure(name, len(model), _form(model), _form(wire), per_tool)


def catalogues(classes: Mapping[str, type[Connector]], count: TokenCounter) -> list[Measure]:
    """Every connector with its default and with all groups, then the tenant-wide endpoint with all six."""
    measures: list[Measure] = []
    wide_default: list[dict[str, Any]] = []
    wide_all: list[dict[str, Any]] = []
    for cid, cls in classes.items():
        default, every = tool_listing(cls), tool_listing(cls, all_groups(cls))
        wide_default += default
        wide_all += every
        measures.append(measure_catalogue(f"{cid} (default groups)", default, count))
        measures.append(measure_catalogue(f"{cid} (all groups)", every, count))
    measures.append(measure_catalogue("tenant-wide, six connectors (default groups)", wide_default, count))
    measures.append(measure_catalogue("tenant-wide, six connectors (all groups)", wide_all, count))
    return measures


def reference(directory: Path, count: TokenCounter) -> Measure:
    """Another server's published tool definitions (one JSON object per file), measured the same way."""
    files = sorted(p for p in directory.iterdir() if p.suffix in (".snap", ".json") and "_typed" not in p.stem)
    if not files:
        raise SystemExit(f"{directory}: no *.snap or *.json tool definitions")
    return measure_catalogue(f"reference ({directory.name})", (json.loads(p.read_text()) for p in files), count)


async def fixture_result_sizes(classes: Mapping[str, type[Connector]], count: TokenCounter) -> dict[str, Any]:
    """Per connector and tool: the tokens and bytes of the text of every sample call's result."""
    from ._fixtures import fixture_results

    out: dict[str, Any] = {}
    for cid in classes:
        tools: dict[str, list[tuple[int, int]]] = {}
        errors: list[str] = []
        async for result in fixture_results(cid):
            if result.is_error:
                errors.append(f"{result.tool}: {result.skipped or result.text[:120]}")
                continue
            tools.setdefault(result.tool, []).append((count(result.text), len(result.text.encode())))
        per_tool = {
            tool: {
                "calls": len(sizes),
                "median_tokens": round(statistics.median(t for t, _ in sizes)),
                "max_tokens": max(t for t, _ in sizes),
                "max_bytes": max(b for _, b in sizes),
            }
            for tool, sizes in sorted(tools.items())
        }
        largest = max(per_tool.items(), key=lambda kv: kv[1]["max_tokens"]) if per_tool else ("", {"max_tokens": 0})
        out[cid] = {
            "tools": len(per_tool),
            "calls": sum(v["calls"] for v in per_tool.values()),
            "median_tokens": round(statistics.median(v["median_tokens"] for v in per_tool.values())) if per_tool else 0,
            "max_tokens": largest[1]["max_tokens"],
            "max_tool": largest[0],
            "errors": errors,
            "per_tool": per_tool,
        }
    return out


def _form_row(m: Measure, form: Form) -> str:
    return (
        f"| {m.name} | {m.tools} | {form.bytes:,} | {form.tokens:,} | {form.avg_tokens:,.0f} | "
        f"{form.max_tokens:,} (`{form.max_tool}`) |"
    )


def render(report: Mapping[str, Any], measures: Sequence[Measure], before: Mapping[str, Any] | None) -> str:
    lines = [
        "# Tool catalogue: what it costs a model",
        "",
        f"Measured {report['measured_at']} by `python -m benchmarks.catalogue`. Tokens: {report['tokenizer']}.",
        "Model-visible: `{name, title, description, inputSchema}` as compact JSON; wire: the `tools/list`",
        "entry with output schema, annotations and `_meta`. Per tool figures are tokens.",
        "",
        "## Model-visible",
        "",
        "| catalogue | tools | bytes | tokens | avg/tool | max/tool |",
        "|---|---:|---:|---:|---:|---|",
        *(_form_row(m, m.model) for m in measures),
        "",
        "## Wire (`tools/list`)",
        "",
        "| catalogue | tools | bytes | tokens | avg/tool | max/tool |",
        "|---|---:|---:|---:|---:|---|",
        *(_form_row(m, m.wire) for m in measures),
        "",
    ]
    if before:
        lines += [
            "## Before and after",
            "",
            f"Before: {before.get('label', 'the previous catalogue')}.",
            "",
            "| catalogue | model tokens before | after | wire bytes before | after |",
            "|---|---:|---:|---:|---:|",
        ]
        old = {c["name"]: c for c in before["catalogues"]}
        for m in measures:
            o = old.get(m.name)
            if o is not None:
                lines.append(
                    f"| {m.name} | {o['model']['tokens']:,} | {m.model.tokens:,} | "
                    f"{o['wire']['bytes']:,} | {m.wire.bytes:,} |"
                )
        lines.append("")
    ref = report.get("reference")
    stored = json.loads(BUDGET_FILE.read_text()).get("reference") if BUDGET_FILE.exists() else None
    if ref:
        lines += [
            "## Reference",
            "",
            f"{ref['name']}: {ref['tools']} tools, {ref['model']['avg_tokens']:,.0f} model-visible tokens per tool "
            f"on average, {ref['model']['max_tokens']:,} at most, measured the same way.",
            "",
        ]
    elif stored:
        lines += [
            "## Reference",
            "",
            f"The official GitHub MCP server ({stored['source']}): {stored['tools']} tools, "
            f"{stored['avg_tokens']:,.0f} model-visible tokens per tool on average, {stored['max_tokens']:,} at most.",
            "",
        ]
    results = report.get("results")
    if results:
        lines += [
            "## Tool results (connector test fixtures)",
            "",
            "The text of every sample call's result against the fixture-backed fakes of the connector's tests.",
            "",
            "| connector | tools | calls | median tokens per tool | largest |",
            "|---|---:|---:|---:|---|",
        ]
        for cid, r in results.items():
            lines.append(
                f"| {cid} | {r['tools']} | {r['calls']} | {r['median_tokens']:,} | "
                f"{r['max_tokens']:,} (`{r['max_tool']}`) |"
            )
        lines.append("")
    return "\n".join(lines)


def measure(*, with_results: bool = True, reference_dir: Path | None = None) -> tuple[dict[str, Any], list[Measure]]:
    count = counter()
    classes = connector_classes()
    measures = catalogues(classes, count)
    report: dict[str, Any] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tokenizer": count.method,
        "exact_tokens": count.exact,
        # per-tool sizes once per tool: under each connector's every-group catalogue
        "catalogues": [
            {k: v for k, v in asdict(m).items() if k != "per_tool" or m.name == f"{m.name.split(' ')[0]} (all groups)"}
            for m in measures
        ],
    }
    if reference_dir is not None:
        ref = reference(reference_dir, count)
        report["reference"] = {k: v for k, v in asdict(ref).items() if k != "per_tool"}
    if with_results:
        report["results"] = asyncio.run(fixture_result_sizes(classes, count))
    return report, measures


def budgets(measures: Sequence[Measure]) -> dict[str, dict[str, int]]:
    """Per connector (every group) and for the tenant-wide endpoint: model-visible tokens per tool, with margin."""
    out: dict[str, dict[str, int]] = {}
    for m in measures:
        if m.name.endswith("(all groups)"):
            key = "tenant-wide" if m.name.startswith("tenant-wide") else m.name.split(" ", 1)[0]
            out[key] = {
                "avg_tokens": math.ceil(m.model.avg_tokens * BUDGET_MARGIN),
                "max_tokens": math.ceil(m.model.max_tokens * BUDGET_MARGIN),
            }
    return out


def update_budget(measures: Sequence[Measure], path: Path = BUDGET_FILE) -> None:
    """Rewrite the per-tool budgets in `path`, keeping its other keys (the reference, the result limit)."""
    current = json.loads(path.read_text()) if path.exists() else {}
    current["catalogues"] = budgets(measures)
    current.setdefault("result_max_tokens", RESULT_LIMIT)
    path.write_text(json.dumps(current, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.catalogue", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-results", action="store_true", help="skip the fixture calls (catalogue only)")
    parser.add_argument("--reference", type=Path, metavar="DIR", help="published tool definitions to measure too")
    parser.add_argument("--before", type=Path, metavar="JSON", help="an earlier catalogue.json to compare with")
    parser.add_argument("--out", type=Path, default=RESULTS, metavar="DIR", help="where to write (results/)")
    parser.add_argument("--update-budget", action="store_true", help=f"rewrite {BUDGET_FILE.name} from this run")
    args = parser.parse_args(argv)
    report, measures = measure(with_results=not args.no_results, reference_dir=args.reference)
    if args.update_budget:
        update_budget(measures)
    before_path = args.before or args.out / "catalogue-before.json"
    before = json.loads(before_path.read_text()) if before_path.exists() else None
    if before is not None:
        report["before"] = {"label": before.get("label"), "catalogues": before["catalogues"]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "catalogue.json").write_text(json.dumps(report, indent=1) + "\n")
    markdown = render(report, measures, before)
    (args.out / "catalogue.md").write_text(markdown)
    sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
