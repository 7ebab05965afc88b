"""The operations schemathesis reads from an OpenAPI document, typed."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.core.result import Err

Operation = schemathesis.APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Operation]


def all_operations(schema: schemathesis.BaseSchema) -> list[Operation]:
    """Every operation of `schema`; one schemathesis cannot read fails the test with its error."""
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations
