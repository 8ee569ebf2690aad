"""The API descriptions in `specs/` are exactly the files `specs/README.md` records.

Every file of the folder (README.md aside) must be listed there with its SHA-256, and every
`.json.gz` file also with the SHA-256 of the JSON inside, under its `.json` name; a listed
file must exist. Changing, adding or removing a description without updating the record
fails here.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from sagemcp.testing import OpenAPIValidator, load_description

SPECS = Path(__file__).resolve().parents[1] / "specs"
README = SPECS / "README.md"
_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$", re.MULTILINE)


def recorded(readme: str) -> dict[str, str]:
    """Path -> SHA-256 from the `sha256sum`-style lines of the README."""
    found: dict[str, str] = {}
    for digest, name in _LINE.findall(readme):
        assert name not in found, f"{name} is listed twice in specs/README.md"
        found[name] = digest
    return found


def stored_files(root: Path) -> list[str]:
    """The folder's files relative to it, without README.md and tool caches (dot folders, __pycache__)."""
    names = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.is_dir() or rel.as_posix() == "README.md":
            continue
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        names.append(rel.as_posix())
    return sorted(names)


def mismatches(root: Path, record: dict[str, str]) -> list[str]:
    """Every difference between the folder and the record, each saying what to fix."""
    problems = []
    files = stored_files(root)
    for name in files:
        data = (root / name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if name not in record:
            problems.append(f"{name} is not listed in specs/README.md: add `{digest}  {name}` and its provenance")
        elif record[name] != digest:
            problems.append(f"{name} has SHA-256 {digest}, specs/README.md records {record[name]}")
        if name.endswith(".gz"):
            inner_name = name.removesuffix(".gz")
            inner = hashlib.sha256(gzip.decompress(data)).hexdigest()
            if inner_name not in record:
                problems.append(f"the JSON inside {name} is not listed: add `{inner}  {inner_name}`")
            elif record[inner_name] != inner:
                problems.append(
                    f"the JSON inside {name} has SHA-256 {inner}, specs/README.md records {record[inner_name]}"
                )
    present = set(files) | {n.removesuffix(".gz") for n in files if n.endswith(".gz")}
    for name in sorted(set(record) - present):
        problems.append(f"specs/README.md lists {name}, which is not in specs/: restore it or drop the line")
    return problems


def test_every_file_matches_the_record() -> None:
    record = recorded(README.read_text(encoding="utf-8"))
    assert len(record) >= 30, "specs/README.md lost its SHA-256 list"
    assert mismatches(SPECS, record) == []


def test_the_check_catches_drift(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"{}")
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(b'{"b": 1}', mtime=0))
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "x").write_bytes(b"ignored")
    sha = {
        "a.json": hashlib.sha256(b"{}").hexdigest(),
        "b.json.gz": hashlib.sha256((tmp_path / "b.json.gz").read_bytes()).hexdigest(),
        "b.json": hashlib.sha256(b'{"b": 1}').hexdigest(),
    }
    text = "\n".join(f"{digest}  {name}" for name, digest in sha.items())
    assert mismatches(tmp_path, recorded(text)) == []

    (tmp_path / "a.json").write_bytes(b"{ }")  # changed
    (tmp_path / "c.json").write_bytes(b"[]")  # added
    problems = mismatches(tmp_path, recorded(text + "\n" + "0" * 64 + "  gone.json"))
    assert [p.split(" ")[0] for p in problems] == ["a.json", "c.json", "specs/README.md"]
    assert "gone.json, which is not in specs/" in problems[2]

    (tmp_path / "a.json").write_bytes(b"{}")
    (tmp_path / "c.json").unlink()
    wrong_inner = text.replace(sha["b.json"], "f" * 64)
    assert mismatches(tmp_path, recorded(wrong_inner)) == [
        f"the JSON inside b.json.gz has SHA-256 {sha['b.json']}, specs/README.md records {'f' * 64}"
    ]
    with pytest.raises(AssertionError, match="listed twice"):
        recorded(text + "\n" + text)


@pytest.mark.parametrize(
    "name",
    [
        "github/api.github.com.json.gz",
        "github/api.github.com.connector-subset.json",
        "slack/slack_web_openapi_v2.json",
        "slack/slack_web_openapi_v2.connector-subset.json",
        "jira/swagger-v3.v3.json",
        "jira/swagger-v3.v3.connector-subset.json",
        "jira/software-swagger.v3.json",
        "jira/software-swagger.v3.connector-subset.json",
        "notion/notion-openapi.json",
        "notion/notion-openapi.2022-06-28.json",
        "zoom/zoom-api-v2.oas2.json",
        "zoom/zoom-api-v2.oas2.connector-subset.json",
        "zoom/zoom-api-openapi.v2.2018.json",
    ],
)
def test_each_openapi_description_loads_by_its_name(name: str) -> None:
    validator = OpenAPIValidator(load_description(SPECS / name), source=name)
    assert len(validator) > 0


@pytest.mark.parametrize("name", ["docs.v1", "drive.v3", "sheets.v4", "calendar.v3", "gmail.v1"])
def test_each_google_discovery_document_loads_by_its_name(name: str) -> None:
    document = load_description(SPECS / "google" / f"{name}.json")
    assert document["discoveryVersion"] == "v1" and f"{document['name']}.{document['version']}" == name
