"""The committed clients are what the code's OpenAPI description generates (no silent drift), and the
TypeScript client's own unit tests (node:test) pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TYPESCRIPT = REPO / "clients" / "typescript"


def test_committed_clients_match_the_description() -> None:
    sys.path.insert(0, str(REPO / "clients"))
    try:
        import generate
    finally:
        sys.path.remove(str(REPO / "clients"))
    stale = generate.check()
    assert stale == [], f"run `make clients` and commit: {stale}"


def test_typescript_client_unit_tests() -> None:
    result = subprocess.run(
        ["npm", "run", "--silent", "test"], cwd=TYPESCRIPT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout
