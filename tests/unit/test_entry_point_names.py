"""Every event-driven entry point decodes its input and calls one handler named after the function:
`on_user_created` -> `handle_user_created`, `run_job` -> `handle_run_job` (the `on_` prefix dropped)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.core.function_registry import FUNCTIONS, FunctionKind

REPO = Path(__file__).resolve().parents[2]
ENTRY_MODULES = ("functions/triggers.py", "functions/pubsub_handlers.py")


def entry_functions() -> dict[str, ast.FunctionDef]:
    found: dict[str, ast.FunctionDef] = {}
    for module in ENTRY_MODULES:
        for node in ast.parse((REPO / module).read_text()).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = node
    return found


def called_names(node: ast.FunctionDef) -> set[str]:
    return {
        call.func.id
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    }


@pytest.mark.parametrize(
    "name", [spec.entry_point for spec in FUNCTIONS if spec.kind is not FunctionKind.HTTP]
)
def test_each_entry_point_calls_its_handler(name: str) -> None:
    entry = entry_functions()[name]
    handler = "handle_" + name.removeprefix("on_")
    assert handler in called_names(entry), f"{name} should call {handler}"
    # Thin: the decode call and the handler call, nothing else.
    assert called_names(entry) <= {handler, "decode_document_event", "decode_pubsub_message"}
