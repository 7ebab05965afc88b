"""Test harness: real emulators, localstripe and the functions host, one of each per test session.

Each test gets its own project id, so Firestore data, trigger registrations and Pub/Sub topics never leak
between tests (the Pub/Sub emulator cannot be cleared); its Firestore data is deleted afterwards.
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

from localdev.emulators import (
    REPO_ROOT,
    EmulatorMissing,
    ManagedProcess,
    firestore_emulator,
    free_port,
    functions_host,
    localstripe_server,
    pubsub_emulator,
)

STRIPE_WEBHOOK_SECRET = "whsec_test_platform_secret"
STRIPE_SECRET_KEY = "sk_test_platform"


@dataclass(frozen=True)
class Stack:
    firestore_host: str
    pubsub_host: str
    stripe_api_base: str
    host_url: str


def _start_stack(log_dir: Path) -> tuple[Stack, list[ManagedProcess]]:
    started: list[ManagedProcess] = []
    host_port = int(os.environ.get("FUNCTIONS_HOST_PORT") or free_port())
    firestore_host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    pubsub_host = os.environ.get("PUBSUB_EMULATOR_HOST")
    pending: list[ManagedProcess] = []
    try:
        if not firestore_host:
            port = free_port()
            pending.append(firestore_emulator(port, f"127.0.0.1:{host_port}", log_dir))
            firestore_host = f"127.0.0.1:{port}"
        if not pubsub_host:
            port = free_port()
            pending.append(pubsub_emulator(port, log_dir))
            pubsub_host = f"127.0.0.1:{port}"
        stripe_port = free_port()
        pending.append(localstripe_server(stripe_port, log_dir))
    except EmulatorMissing as exc:
        pytest.exit(str(exc), returncode=3)
    for process in pending:
        process.start()
        started.append(process)
    stack = Stack(
        firestore_host, pubsub_host, f"http://127.0.0.1:{stripe_port}", f"http://127.0.0.1:{host_port}"
    )
    os.environ.update(platform_env(stack))
    host = functions_host(host_port, dict(os.environ), log_dir)
    host.start()
    started.append(host)
    return stack, started


def platform_env(stack: Stack) -> dict[str, str]:
    """The environment of the functions host and of the tests' own in-process calls."""
    return {
        "FIRESTORE_EMULATOR_HOST": stack.firestore_host,
        "PUBSUB_EMULATOR_HOST": stack.pubsub_host,
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",  # unsigned ID tokens; never set in production
        "GOOGLE_CLOUD_PROJECT": "demo-platform",
        "PLATFORM_ENV": "local",
        "STRIPE_API_BASE": stack.stripe_api_base,
        "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "ALLOW_LOOPBACK_WEBHOOKS": "true",
        "FUNCTIONS_BASE_URL": stack.host_url,
        "PLATFORM_EXTRA_FUNCTIONS": "tests.integration.probe_functions",
        "PYTHONPATH": str(REPO_ROOT),
    }


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir = Path(os.environ.get("PLATFORM_TEST_LOGS") or tmp_path_factory.mktemp("platform-logs"))
    started: list[ManagedProcess] = []
    try:
        stack, started = _start_stack(log_dir)
        yield stack
    finally:
        for process in reversed(started):
            process.stop()


@dataclass(frozen=True)
class Project:
    """One test's isolated project on the shared emulators."""

    id: str
    stack: Stack

    def function_url(self, name: str) -> str:
        return f"{self.stack.host_url}/{self.id}/us-central1/{name}"


@pytest.fixture
def project(stack: Stack) -> Iterator[Project]:
    from localdev.wiring import clear_firestore, wire_project
    from shared.clients import close_project_clients, project_scope
    from shared.function_registry import FUNCTIONS
    from tests.integration import probe_functions

    project_id = f"demo-t{uuid.uuid4().hex[:12]}"
    wire_project(project_id, stack.firestore_host, stack.host_url, FUNCTIONS + probe_functions.FUNCTIONS)
    with project_scope(project_id):
        yield Project(project_id, stack)
    clear_firestore(stack.firestore_host, project_id)
    close_project_clients(project_id)


@pytest.fixture
def api(project: Project) -> Any:
    from tests.support.platform import ApiClient

    return ApiClient(project.function_url("api"), project.id)
