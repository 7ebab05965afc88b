"""The retry helper for lost commits (shared/core/retry.py), and the money paths using it for every lost race.

An emulator `Aborted` ("Transaction lock timeout") cannot be provoked on demand, so the helper is tested
with plain callables; the structural test holds the money modules to catching the helper's error set."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from google.api_core.exceptions import Aborted, AlreadyExists, FailedPrecondition

from shared.core.retry import retry_commit

ROOT = Path(__file__).resolve().parents[2]
MONEY_MODULES = (
    "shared/credits/ledger.py",
    "shared/jobs/lifecycle.py",
    "shared/billing/purchases.py",
    "shared/core/markers.py",
    "shared/billing/settlement.py",
    "shared/billing/customers.py",
    "shared/billing/card_store.py",
)


def flaky(failures: list[Exception]) -> tuple[list[int], object]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "committed"

    return calls, attempt


def test_aborted_and_failed_precondition_are_retried() -> None:
    calls, attempt = flaky([Aborted("Transaction lock timeout"), FailedPrecondition("stale"), Aborted("x")])
    assert retry_commit(attempt, what="doc") == "committed"  # type: ignore[arg-type]
    assert len(calls) == 4


def test_other_errors_are_not_retried() -> None:
    calls, attempt = flaky([AlreadyExists("marker")])
    with pytest.raises(AlreadyExists):
        retry_commit(attempt, what="doc")  # type: ignore[arg-type]
    assert len(calls) == 1


def test_gives_up_after_max_attempts() -> None:
    calls, attempt = flaky([Aborted("again")] * 5)
    with pytest.raises(RuntimeError, match="doc kept changing"):
        retry_commit(attempt, what="doc", max_attempts=3)  # type: ignore[arg-type]
    assert len(calls) == 3


def test_gives_up_with_the_callers_error() -> None:
    calls, attempt = flaky([FailedPrecondition("stale")] * 5)
    with pytest.raises(LookupError, match="busy"):
        retry_commit(attempt, what="doc", max_attempts=2, gave_up=lambda: LookupError("busy"))  # type: ignore[arg-type]
    assert len(calls) == 2


def _caught_names(handler: ast.ExceptHandler) -> set[str]:
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {n.id for n in nodes if isinstance(n, ast.Name)}


@pytest.mark.parametrize("module", MONEY_MODULES)
def test_money_paths_retry_every_lost_commit(module: str) -> None:
    """A handler for FailedPrecondition alone would let an Aborted commit surface as a 500."""
    tree = ast.parse((ROOT / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = _caught_names(node)
            if "FailedPrecondition" in names or "Aborted" in names:
                pytest.fail(f"{module}:{node.lineno} catches {sorted(names)}; use RETRYABLE_COMMIT_ERRORS")


def _hand_written_retries(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
            args = [a for a in node.iter.args if isinstance(a, ast.Name)]
            if any(a.id.endswith(("RETRIES", "ATTEMPTS")) for a in args):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} loops over {args[0].id}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "backoff":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls backoff()")
    return found


def test_commit_retries_go_through_the_one_helper() -> None:
    """One retry helper: no module loops over a retry budget or sleeps between attempts by itself."""
    found = [
        place
        for path in sorted((ROOT / "shared").rglob("*.py"))
        if path != ROOT / "shared" / "core" / "retry.py"
        for place in _hand_written_retries(path)
    ]
    assert found == []
