"""Every document the README and docs/ point to is in this repository (a clone has nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A path ending in .md, as the docs write them (`docs/webhooks.md`, docs/stripe.md, ../x/api.md, /abs/x.md).
MD_REFERENCE = re.compile(r"(?<![\w/.-])((?:\.\./|/)?[\w.-]+(?:/[\w.-]+)*\.md)\b")


def test_every_markdown_reference_resolves_inside_the_repository() -> None:
    missing = [
        f"{document.relative_to(ROOT)}: {target}"
        for document in DOCUMENTS
        for target in MD_REFERENCE.findall(document.read_text())
        if target.startswith(("../", "/"))
        or not any((base / target).is_file() for base in (ROOT, ROOT / "docs", document.parent))
    ]
    assert missing == []
