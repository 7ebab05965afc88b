"""Shared set-up for benchmarks: one local stack, one fresh project wired like the tests'."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localdev.stack import Stack, start_stack, stop_stack


@contextmanager
def bench_stack() -> Iterator[tuple[Stack, str]]:
    """Yields (stack, project id) with the project's triggers and subscriptions wired and in scope."""
    from localdev.wiring import wire_project
    from shared.clients import project_scope

    log_dir = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    stack, processes = start_stack(log_dir)
    try:
        project = f"demo-bench{uuid.uuid4().hex[:8]}"
        wire_project(project, stack.firestore_host, stack.host_url)
        with project_scope(project):
            yield stack, project
    finally:
        stop_stack(processes)
