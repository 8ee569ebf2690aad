"""The options of one scaffold run, checked: `plan(...)` returns a `ConnectorPlan` or says what to change."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .._connector import ConnectorInfo
from ..errors import DefinitionError

__all__ = ["AUTH_KINDS", "MAX_ID_LENGTH", "ConnectorPlan", "find_description", "plan"]

AUTH_KINDS = ("oauth2", "bearer", "api_key", "basic", "client_credentials", "jwt_bearer")
"""The `--auth` choices: the kinds of core's schemes."""

_TITLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .&'+-]{0,29}$")
MAX_ID_LENGTH = 20
"""Longer ids are valid connector ids, but make every tool name (`{id}_{verb}_{object}`) long."""
_MAX_PREFIX = 20
_WORD_RE = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class ConnectorPlan:
    """What one scaffold run makes: names, URLs, auth kinds and the API description the tests use."""

    id: str
    title: str
    base_url: str
    auth: tuple[str, ...]
    dest: Path
    description: Path | None
    """A vendor description under `dest/specs/<id>/`; None: an example one is generated into tests/."""

    @property
    def package(self) -> str:
        return f"sagemcp_{self.id}"

    @property
    def dist(self) -> str:
        return f"sagemcp-connector-{self.id}"

    @property
    def root(self) -> Path:
        return self.dest / self.dist

    @property
    def prefix(self) -> str:
        """The class-name prefix: the title's words run together (`Acme Cloud` -> `AcmeCloud`), or the id
        capitalised when that is not a short identifier."""
        words = _WORD_RE.findall(self.title)
        name = "".join(word[0].upper() + word[1:] for word in words)
        return name if name[:1].isalpha() and len(name) <= _MAX_PREFIX else self.id.capitalize()


def plan(
    connector_id: str,
    title: str,
    *,
    base_url: str | None = None,
    auth: Sequence[str] = ("bearer",),
    dest: Path | str = ".",
    spec: Path | str | None = None,
) -> ConnectorPlan:
    """Check the options and decide what to make; `DefinitionError` says what to change."""
    try:
        ConnectorInfo(id=connector_id, title=title or "-", description="-")
    except ValueError:
        raise DefinitionError(
            f"connector id {connector_id!r} must be 1-20 lowercase letters or digits, starting with a letter "
            "(it is the entry-point name and the prefix of every tool name, such as `zoom`)"
        ) from None
    if len(connector_id) > MAX_ID_LENGTH:
        raise DefinitionError(
            f"connector id {connector_id!r} is {len(connector_id)} characters; the scaffold takes at most "
            f"{MAX_ID_LENGTH}, since it starts every tool name: choose a shorter one"
        )
    if not _TITLE_RE.match(title):
        raise DefinitionError(
            f"title {title!r} must be 1-30 letters, digits, spaces or . & ' + - (the service's name, such as 'Zoom')"
        )
    url = (base_url or f"https://api.{connector_id}.example").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
        raise DefinitionError(f"--base-url {url!r} must be an https URL without query or credentials")
    kinds = tuple(dict.fromkeys(auth)) or ("bearer",)
    unknown = [kind for kind in kinds if kind not in AUTH_KINDS]
    if unknown:
        raise DefinitionError(f"unknown auth kind {unknown[0]!r}: choose from {', '.join(AUTH_KINDS)}")
    target = Path(dest)
    found = _chosen_description(target, connector_id, spec)
    result = ConnectorPlan(connector_id, title, url, kinds, target, found)
    if result.root.exists():
        raise DefinitionError(f"{result.root} exists already; choose another --dest, or remove it first")
    return result


def find_description(dest: Path, connector_id: str) -> Path | None:
    """The OpenAPI / Swagger description of `dest/specs/<id>/` the tests should use, if there is one.

    A `*.connector-subset.*` file (cut to the operations the connectors use) wins over a full
    description, a larger one over a smaller one; Google discovery documents are passed over.
    """
    folder = dest / "specs" / connector_id
    if not folder.is_dir():
        return None
    sizes = {p: _openapi_size(p) for p in folder.iterdir() if p.name.endswith((".json", ".json.gz"))}
    candidates = [(p, size) for p, size in sizes.items() if size is not None]
    if not candidates:
        return None
    candidates.sort(key=lambda found: ("connector-subset" not in found[0].name, -found[1], found[0].name))
    return candidates[0][0]


def _chosen_description(dest: Path, connector_id: str, spec: Path | str | None) -> Path | None:
    if spec is None:
        return find_description(dest, connector_id)
    path = Path(spec)
    folder = (dest / "specs" / connector_id).resolve()
    if path.resolve().parent != folder or not path.is_file():
        raise DefinitionError(
            f"--spec {path} must be a file in {folder}: the tests find the description there, "
            "relative to the package, so that a fresh clone has it"
        )
    if _openapi_size(path) is None:
        raise DefinitionError(f"--spec {path} is not an OpenAPI 3.x or Swagger 2.0 description in JSON")
    return path


def _openapi_size(path: Path) -> int | None:
    """The size of the JSON in `path` if it is an OpenAPI or Swagger description, else None."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        document = json.loads(raw)
    except (OSError, ValueError):
        return None
    return len(raw) if isinstance(document, dict) and ("openapi" in document or "swagger" in document) else None
