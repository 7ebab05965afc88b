"""docs/api.md, the customer's reference, lists exactly the operations the served OpenAPI description has."""

from __future__ import annotations

import re
from pathlib import Path

from functions.routes import openapi_document

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def test_the_reference_lists_every_described_operation_and_nothing_else() -> None:
    described = {
        f"{method.upper()} {path}"
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    listed = set(re.findall(r"^\| `([A-Z]+ /v1/[^`]*)` \|", REFERENCE.read_text(), flags=re.MULTILINE))
    assert described - listed == set(), "operations missing from docs/api.md"
    assert listed - described == set(), "docs/api.md lists operations the API does not serve"
