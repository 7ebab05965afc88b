"""Every deployed entry point, made from its declaration (shared/core/function_registry.py): an attribute
named after the function that decodes the trigger's input and calls the declared handler."""

from __future__ import annotations

from typing import Any

from functions.entry_points import entry_point
from shared.core.function_registry import FUNCTIONS, by_name

__all__ = sorted(spec.name for spec in FUNCTIONS)


def __getattr__(name: str) -> Any:
    """functions-framework (and the deployed main.py) look an entry point up by its function's name."""
    try:
        spec = by_name(name)
    except KeyError:
        raise AttributeError(name) from None
    return entry_point(spec)
