"""The direction of imports is a rule (docs/architecture.md): each layer imports only itself and the layers
below it. The test reads every import statement (lazy ones inside functions too) with the AST."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Top to bottom. A module may import its own layer and any layer after it, never one before it.
LAYERS: tuple[str, ...] = (
    "functions",
    "shared.api",
    "shared.workers",
    "shared.webhooks",
    "shared.jobs",
    "shared.billing",
    "shared.keys",
    "shared.credits",
    "shared.accounts",
    "shared.counters",
    "shared.outbound",
    "shared.system",
    "shared.core",
    "shared.models",
)
# The local tooling stands beside the layers: it may use only these.
LOCALDEV_ALLOWED: tuple[str, ...] = ("shared.core", "shared.system", "shared.models", "localdev")


def layer_of(module: str) -> str | None:
    for layer in LAYERS:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            # `from shared import models` imports the module shared.models.
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))


def is_first_party(module: str) -> bool:
    return module.split(".")[0] in {"shared", "functions", "localdev"}


def test_every_shared_module_belongs_to_a_layer() -> None:
    stray = [module_name(p) for p in python_files("shared") if layer_of(module_name(p)) is None]
    assert stray == ["shared"], f"modules outside every layer: {stray}"


def test_imports_point_down_the_layers() -> None:
    violations = []
    for path in python_files("shared", "functions"):
        importer = module_name(path)
        importer_layer = layer_of(importer)
        if importer_layer is None:
            continue
        for line, imported in imported_modules(path):
            imported_layer = layer_of(imported)
            if imported_layer is None:
                if is_first_party(imported) and imported != "shared":
                    violations.append(f"{path.relative_to(REPO)}:{line} imports {imported} (no layer)")
                continue
            if LAYERS.index(imported_layer) < LAYERS.index(importer_layer):
                violations.append(f"{path.relative_to(REPO)}:{line} {importer_layer} imports {imported}")
    assert violations == []


def test_localdev_imports_only_core_and_system() -> None:
    violations = [
        f"{path.relative_to(REPO)}:{line} imports {imported}"
        for path in python_files("localdev")
        for line, imported in imported_modules(path)
        if is_first_party(imported)
        and imported != "shared"
        and not any(imported == a or imported.startswith(a + ".") for a in LOCALDEV_ALLOWED)
    ]
    assert violations == []


def test_routes_never_touch_firestore_directly() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in python_files("functions")
        if any(
            isinstance(node, ast.Name | ast.Attribute)
            and (getattr(node, "id", None) or getattr(node, "attr", None)) == "firestore_client"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("shared.jobs.service", "shared.credits.ledger", True),
        ("shared.credits.ledger", "shared.jobs.service", False),
        ("shared.core.clients", "shared.models", True),
        ("shared.models", "shared.core.clients", False),
        ("functions.routes.jobs", "shared.api.http", True),
    ],
)
def test_layer_order_itself(importer: str, imported: str, allowed: bool) -> None:
    importer_layer, imported_layer = layer_of(importer), layer_of(imported)
    assert importer_layer is not None and imported_layer is not None
    assert (LAYERS.index(imported_layer) >= LAYERS.index(importer_layer)) is allowed
