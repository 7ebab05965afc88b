"""Every query in the code is in shared/core/query_catalog.py, and every catalogued shape that needs a composite
index has one in firestore.indexes.json (and the file holds no index nobody uses)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from shared.core.query_catalog import QUERIES, QueryShape

ROOT = Path(__file__).resolve().parents[2]
QUERY_METHODS = {"where", "order_by"}
# Adds one filter to its callers' queries (user_range in every range); the callers are catalogued with it.
FILTER_HELPERS = {"shared.core.index_shards:in_user_ranges"}


def _query_sites() -> set[str]:
    """module:function of every function that calls .where( or .order_by( in shared/ and functions/."""
    sites: set[str] = set()
    for package in ("shared", "functions"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            stack: list[str] = []

            def visit(node: ast.AST, stack: list[str] = stack, module: str = module) -> None:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    stack.append(node.name)
                    for child in ast.iter_child_nodes(node):
                        visit(child)
                    stack.pop()
                    return
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in QUERY_METHODS
                ):
                    sites.add(f"{module}:{'.'.join(stack) or '<module>'}")
                for child in ast.iter_child_nodes(node):
                    visit(child)

            visit(ast.parse(path.read_text()))
    return sites - FILTER_HELPERS


def _indexes() -> dict[str, list[tuple[tuple[str, str], ...]]]:
    data = json.loads((ROOT / "firestore.indexes.json").read_text())
    found: dict[str, list[tuple[tuple[str, str], ...]]] = {}
    for index in data["indexes"]:
        assert index["queryScope"] == "COLLECTION"
        fields = tuple((f["fieldPath"], f["order"]) for f in index["fields"] if f["fieldPath"] != "__name__")
        found.setdefault(index["collectionGroup"], []).append(fields)
    return found


def _serves(
    index: tuple[tuple[str, str], ...], needed: tuple[tuple[str, str], ...], shape: QueryShape
) -> bool:
    """Equality fields may come in any order in the index; the ordered tail must match exactly."""
    equality = len(shape.equality)
    return (
        len(index) == len(needed)
        and set(index[:equality]) == set(needed[:equality])
        and index[equality:] == needed[equality:]
    )


def test_every_query_in_the_code_is_catalogued() -> None:
    assert _query_sites() == {shape.site for shape in QUERIES}


def test_every_catalogued_query_is_backed_by_an_index() -> None:
    indexes = _indexes()
    for shape in QUERIES:
        needed = shape.composite_index()
        if needed is None:
            continue
        candidates = indexes.get(shape.collection, [])
        assert any(_serves(index, needed, shape) for index in candidates), (
            f"{shape.site} queries {shape.collection} by {needed}: add that composite index"
        )


def test_no_unused_composite_index() -> None:
    for collection, indexes in _indexes().items():
        for index in indexes:
            users = [
                s
                for s in QUERIES
                if s.collection == collection and (n := s.composite_index()) and _serves(index, n, s)
            ]
            assert users, f"index {collection} {index} serves no catalogued query"


def test_exempted_fields_are_never_queried() -> None:
    data = json.loads((ROOT / "firestore.indexes.json").read_text())
    # A field exempt from single-field indexing may still be queried through a composite index.
    queried = {
        (s.collection, field)
        for s in QUERIES
        if s.composite_index() is None
        for field in (*s.equality, *(f for f, _ in s.order), *([s.range_field] if s.range_field else []))
    }
    for override in data["fieldOverrides"]:
        assert override["indexes"] == [], "overrides here only exempt fields from indexing"
        assert (override["collectionGroup"], override["fieldPath"]) not in queried


def test_single_field_shapes_need_no_composite_index() -> None:
    assert QueryShape("x:y", "c", equality=("a", "b")).composite_index() is None
    assert QueryShape("x:y", "c", order=(("a", "DESCENDING"),)).composite_index() is None
    assert QueryShape("x:y", "c", equality=("a",), order=(("b", "DESCENDING"),)).composite_index() == (
        ("a", "ASCENDING"),
        ("b", "DESCENDING"),
    )
