"""Test harness: real emulators, localstripe and the functions host, one of each per test session.

Each test gets its own project id, so Firestore data, trigger registrations and Pub/Sub topics never leak
between tests; afterwards its push subscriptions are deleted (the emulator keeps threads for the
subscriptions alive at once: the run checks it ends near the count it started with) and its Firestore data.
Set FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST to reuse running emulators (the Firestore one must then
have been started with --functions_emulator=127.0.0.1:$FUNCTIONS_HOST_PORT for trigger tests).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from localdev.emulators import EmulatorMissing
from localdev.stack import STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, Stack, start_stack, stop_stack
from localdev.supervisor import Supervisor

__all__ = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "Project", "Stack"]

# Unset PLATFORM_ENV means production (fail closed): the tests are local development, said explicitly, for
# this process (in-process callers) and every process the stack starts (localdev/stack.py sets it too).
os.environ["PLATFORM_ENV"] = "local"

# Tests never assert timings: on a loaded machine hypothesis' per-example deadline fails correct code.
settings.register_profile("platform", deadline=None)
settings.load_profile("platform")


@pytest.fixture(scope="session")
def supervised_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Supervisor]]:
    log_dir = Path(os.environ.get("PLATFORM_TEST_LOGS") or tmp_path_factory.mktemp("platform-logs"))
    try:
        stack, supervisor = start_stack(
            log_dir, extra_functions="tests.integration.probe_functions", with_auth=True
        )
    except EmulatorMissing as exc:
        pytest.exit(str(exc), returncode=3)
    # start_stack set the platform's variables in this process: settings read before (by unit tests that
    # ran first) must not outlive them.
    from shared.core.settings import get_settings

    get_settings.cache_clear()
    from tests.support.emulator_threads import pubsub_threads

    threads_at_start = pubsub_threads(supervisor)
    try:
        yield stack, supervisor
        _check_pubsub_threads(supervisor, threads_at_start)
    finally:
        stop_stack(supervisor)


def _check_pubsub_threads(supervisor: Supervisor, threads_at_start: int) -> None:
    """Each test tears down what it wired: the Pub/Sub emulator ends the run holding about the threads it
    started with (a run that leaves push subscriptions behind grew it to thousands and slowed itself down)."""
    from tests.support.emulator_threads import THREAD_ALLOWANCE, settled_pubsub_threads

    threads_at_end = settled_pubsub_threads(supervisor, threads_at_start)
    assert threads_at_end <= threads_at_start + THREAD_ALLOWANCE, (
        f"the Pub/Sub emulator holds {threads_at_end} threads after the run, {threads_at_start} at its start: "
        "a test left topics or push subscriptions behind"
    )


@pytest.fixture(scope="session")
def stack(supervised_stack: tuple[Stack, Supervisor]) -> Stack:
    return supervised_stack[0]


@pytest.fixture(scope="session")
def supervisor(supervised_stack: tuple[Stack, Supervisor]) -> Supervisor:
    """Restarts the stack's processes that die (the fault suite kills them on purpose)."""
    return supervised_stack[1]


@dataclass(frozen=True)
class Project:
    """One test's isolated project on the shared emulators."""

    id: str
    stack: Stack

    def function_url(self, name: str) -> str:
        return f"{self.stack.host_url}/{self.id}/us-central1/{name}"


@pytest.fixture
def project(stack: Stack) -> Iterator[Project]:
    yield from _project(stack, f"demo-t{uuid.uuid4().hex[:12]}")


@pytest.fixture
def auth_project(stack: Stack) -> Iterator[Project]:
    """The project of the Auth emulator's ID tokens (tests/support/auth.py signs users in for real).
    One id for the whole session: its Firestore data is deleted after each test, its users stay."""
    yield from _project(stack, stack.auth_project)


def _project(stack: Stack, project_id: str) -> Iterator[Project]:
    from localdev.wiring import clear_firestore, unwire_project, wire_project
    from shared.core.clients import close_project_clients, project_scope
    from shared.core.function_registry import FUNCTIONS
    from shared.workers.catalogue import seed_job_types
    from tests.integration import probe_functions
    from tests.support.emulator_threads import pubsub_admin

    publisher, subscriber = pubsub_admin()
    specs = FUNCTIONS + probe_functions.FUNCTIONS
    wire_project(project_id, stack.firestore_host, stack.host_url, specs, publisher, subscriber)
    try:
        with project_scope(project_id):
            seed_job_types()  # as `make dev` seeds its project: `echo`, like any stored type
            yield Project(project_id, stack)
    finally:
        # Subscriptions first: nothing of this test is delivered while its data goes.
        unwire_project(project_id, subscriber)
        clear_firestore(stack.firestore_host, project_id)
        close_project_clients(project_id)


@pytest.fixture
def api(project: Project) -> Any:
    from tests.support.platform import ApiClient

    return ApiClient(project.function_url("api"), project.id)
