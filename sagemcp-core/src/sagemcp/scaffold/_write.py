"""Write a new connector package from the templates (`templates/`, package data, `string.Template`).

What varies with the options is rendered by `_code` (the code) and `_readme` (the README, from
the generated connector class itself, imported for that from the new source tree), so every
template stays plain code.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import tomllib
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from string import Template

from .._connector import Connector
from ..errors import DefinitionError
from ._code import code_values
from ._description import example_description
from ._plan import ConnectorPlan, plan
from ._readme import readme_values

__all__ = ["create_connector", "next_steps", "write_package"]

_FIRST_PARTY_HINT = 'add "{package}" to known-first-party under [tool.ruff.lint.isort] in pyproject.toml'


def create_connector(
    connector_id: str,
    title: str,
    *,
    base_url: str | None = None,
    auth: Sequence[str] = ("bearer",),
    dest: Path | str = ".",
    spec: Path | str | None = None,
) -> Path:
    """Create `dest/sagemcp-connector-<id>/` and return its path; refuses to overwrite anything."""
    return write_package(plan(connector_id, title, base_url=base_url, auth=auth, dest=dest, spec=spec))


def write_package(made: ConnectorPlan) -> Path:
    """Write the package `made` describes; `FileExistsError` if its directory appeared meanwhile."""
    values = code_values(made)
    root = made.root
    outputs = {
        "pyproject.toml": "pyproject.toml.tmpl",
        f"src/{made.package}/__init__.py": "src/__init__.py.tmpl",
        f"src/{made.package}/connector.py": "src/connector.py.tmpl",
        f"src/{made.package}/models.py": "src/models.py.tmpl",
        f"src/{made.package}/tools/__init__.py": "src/tools/__init__.py.tmpl",
        f"src/{made.package}/tools/items.py": "src/tools/items.py.tmpl",
        "tests/conftest.py": "tests/conftest.py.tmpl",
        f"tests/{made.id}_support.py": "tests/support.py.tmpl",
        f"tests/{made.id}_cases.py": "tests/cases.py.tmpl",
        "tests/test_contract.py": "tests/test_contract.py.tmpl",
        "tests/test_tools_items.py": "tests/test_tools.py.tmpl",
        "tests/test_e2e.py": "tests/test_e2e.py.tmpl",
        "tests/test_docs.py": "tests/test_docs.py.tmpl",
    }
    root.parent.mkdir(parents=True, exist_ok=True)
    root.mkdir()
    try:
        for output, template in outputs.items():
            _write(root / output, _render(template, values))
        _write(root / f"src/{made.package}/py.typed", "")
        _write(root / "LICENSE", files(__package__).joinpath("templates", "LICENSE").read_text(encoding="utf-8"))
        if made.description is None:
            _write(root / "tests" / "openapi.json", json.dumps(example_description(made), indent=2) + "\n")
        cls = _load_connector(made)
        _write(root / "README.md", _render("README.md.tmpl", values | readme_values(made, cls)))
    except BaseException:
        shutil.rmtree(root)  # this run made it: leave nothing half written
        raise
    return root


def next_steps(made: ConnectorPlan) -> list[str]:
    """What to do after the package is made, for the command to print."""
    steps = [
        f"pip install -e {made.root}  (next to sagemcp-core[testing])",
        f"cd {made.root} && python -m pytest -q",
        "write the real tools: tools/<resource>.py per group, models with from_api, a case for each in "
        f"tests/{made.id}_cases.py, then: python -m sagemcp.catalog {made.package}.connector:"
        f"{made.prefix}Connector --update README.md",
    ]
    if made.description is None:
        steps.append(
            f"put the vendor's API description in specs/{made.id}/ (recorded in specs/README.md) and point "
            f"DESCRIPTION in tests/{made.id}_support.py at it; tests/openapi.json is only an example"
        )
    root_config = made.dest / "pyproject.toml"
    if root_config.is_file() and f'"{made.package}"' not in root_config.read_text(encoding="utf-8"):
        steps.append(_FIRST_PARTY_HINT.format(package=made.package))
    return steps


# -- files---------------------------------------------------------------------------------


def _render(template: str, values: dict[str, str]) -> str:
    text = files(__package__).joinpath("templates", *template.split("/")).read_text(encoding="utf-8")
    try:
        return Template(text).substitute(values)
    except (KeyError, ValueError) as exc:  # a template naming a value this module does not make
        raise DefinitionError(f"scaffold template {template} cannot be rendered: {exc!r}") from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _load_connector(made: ConnectorPlan) -> type[Connector]:
    """The generated connector class, imported from the new source tree without installing it."""
    with _package_from(made.root / "src" / made.package, made.package):
        module = importlib.import_module(f"{made.package}.connector")
        cls = getattr(module, f"{made.prefix}Connector")
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise DefinitionError(f"the generated {made.package}.connector has no Connector class {made.prefix}Connector")
    return cls


@contextmanager
def _package_from(folder: Path, name: str) -> Iterator[None]:
    """Make `name` importable from `folder` (with the `__version__` of its pyproject.toml), then forget it again.

    The package's own `__init__` reads its version from the installed distribution, which does not
    exist yet, so a module object stands in for it while the submodules are imported.
    """
    saved = {key: mod for key, mod in sys.modules.items() if key == name or key.startswith(name + ".")}
    for key in saved:
        del sys.modules[key]
    package = types.ModuleType(name)
    package.__path__ = [str(folder)]
    with open(folder.parents[1] / "pyproject.toml", "rb") as project:
        package.__version__ = tomllib.load(project)["project"]["version"]  # type: ignore[attr-defined]
    sys.modules[name] = package
    writing = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ in the new tree
    try:
        yield
    finally:
        sys.dont_write_bytecode = writing
        for key in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
            del sys.modules[key]
        sys.modules.update(saved)
