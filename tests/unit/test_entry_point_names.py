"""Every declared function names a handler that exists, and every event-driven handler is named after its
function (`on_user_created` -> `handle_user_created`, `run_job` -> `handle_run_job`): one place to read a
function (shared/core/function_registry.py), one name to find its code."""

from __future__ import annotations

import pytest

import functions.main
from functions.entry_points import handler_of
from shared.core.function_registry import FUNCTIONS, FunctionKind, FunctionSpec


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_declared_handler_exists_and_main_serves_it(spec: FunctionSpec) -> None:
    assert callable(handler_of(spec))
    assert callable(getattr(functions.main, spec.entry_point))
    if spec.kind is not FunctionKind.HTTP:
        assert spec.handler.endswith(":handle_" + spec.name.removeprefix("on_"))


def test_main_serves_nothing_undeclared() -> None:
    assert functions.main.__all__ == sorted(spec.name for spec in FUNCTIONS)
    with pytest.raises(AttributeError):
        functions.main.not_a_function  # noqa: B018
