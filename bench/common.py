"""Shared set-up for benchmarks: one local stack, one fresh project wired like the tests'."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localdev.stack import Stack, start_stack, stop_stack
from localdev.supervisor import Supervisor


@dataclass(frozen=True)
class BenchPlatform:
    stack: Stack
    project: str
    log_dir: Path
    supervisor: Supervisor  # restarts a process that dies (bench/faults kills them)


@contextmanager
def bench_stack() -> Iterator[BenchPlatform]:
    """A running stack and a fresh project with its triggers and subscriptions wired, in scope.
    Logs go to PLATFORM_BENCH_LOGS or a temporary folder."""
    from localdev.wiring import wire_project
    from shared.core.clients import project_scope
    from shared.workers.catalogue import seed_job_types

    log_dir = Path(os.environ.get("PLATFORM_BENCH_LOGS") or tempfile.mkdtemp(prefix="bench-logs-"))
    stack, supervisor = start_stack(log_dir)
    try:
        project = f"demo-bench{uuid.uuid4().hex[:8]}"
        wire_project(project, stack.firestore_host, stack.host_url)
        with project_scope(project):
            seed_job_types()
            yield BenchPlatform(stack, project, log_dir, supervisor)
    finally:
        stop_stack(supervisor)
