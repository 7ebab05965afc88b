"""One local platform stack for a test session or a benchmark: emulators on free ports (or reused ones named by
FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST), the Firebase Auth emulator (with_auth), localstripe and the
functions host, watched by a supervisor that restarts whichever dies (localdev/supervisor.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from localdev.auth_emulator import auth_emulator
from localdev.emulators import (
    REPO_ROOT,
    ManagedProcess,
    firestore_emulator,
    free_port,
    functions_host,
    localstripe_server,
    pubsub_emulator,
    redis_server,
)
from localdev.supervisor import Supervisor

STRIPE_WEBHOOK_SECRET = "whsec_test_platform_secret"
STRIPE_SECRET_KEY = "sk_test_platform"
# The Auth emulator issues ID tokens for one project (API-key requests use its default project): tests that
# sign users in for real run against this project id.
AUTH_PROJECT = "demo-auth"
# Unsigned test tokens need FIREBASE_AUTH_EMULATOR_HOST set, even when no Auth emulator runs (benchmarks).
NO_AUTH_EMULATOR = "127.0.0.1:9099"


@dataclass(frozen=True)
class Stack:
    firestore_host: str
    pubsub_host: str
    stripe_api_base: str
    host_url: str
    redis_url: str
    auth_host: str = NO_AUTH_EMULATOR
    auth_project: str = AUTH_PROJECT


def start_stack(
    log_dir: Path, extra_functions: str | None = None, *, with_auth: bool = False
) -> tuple[Stack, Supervisor]:
    """Start what is not given by FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST, then the host, and
    supervise them all (the emulators the stack did not start are not its to restart).
    with_auth also starts the Firebase Auth emulator (free port) so tests can sign users in for real.
    Raises EmulatorMissing (with install advice) when the emulators cannot be found."""
    started: list[ManagedProcess] = []
    host_port = int(os.environ.get("FUNCTIONS_HOST_PORT") or free_port())
    firestore_host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    pubsub_host = os.environ.get("PUBSUB_EMULATOR_HOST")
    pending: list[ManagedProcess] = []
    if not firestore_host:
        port = free_port()
        pending.append(firestore_emulator(port, f"127.0.0.1:{host_port}", log_dir))
        firestore_host = f"127.0.0.1:{port}"
    if not pubsub_host:
        port = free_port()
        pending.append(pubsub_emulator(port, log_dir))
        pubsub_host = f"127.0.0.1:{port}"
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        redis = redis_server(free_port(), log_dir)
        pending.append(redis)
        redis_url = redis.ready_url
    stripe_port = free_port()
    pending.append(localstripe_server(stripe_port, log_dir))
    auth_host = NO_AUTH_EMULATOR
    if with_auth:
        auth_port = free_port()
        pending.append(auth_emulator(auth_port, AUTH_PROJECT, log_dir, log_dir))
        auth_host = f"127.0.0.1:{auth_port}"
    try:
        for process in pending:
            process.start()
            started.append(process)
    except BaseException:
        stop_stack(started)
        raise
    stack = Stack(
        firestore_host,
        pubsub_host,
        f"http://127.0.0.1:{stripe_port}",
        f"http://127.0.0.1:{host_port}",
        redis_url,
        auth_host,
    )
    os.environ.update(platform_env(stack, extra_functions))
    host = functions_host(host_port, dict(os.environ), log_dir)
    try:
        host.start()
    except BaseException:
        stop_stack(started)
        raise
    started.append(host)
    supervisor_log = log_dir / "supervisor.log"

    def echo(line: str) -> None:
        with supervisor_log.open("a") as log:
            log.write(line + "\n")

    return stack, Supervisor(started, echo=echo).start()


def stop_stack(processes: Supervisor | list[ManagedProcess]) -> None:
    if isinstance(processes, Supervisor):
        processes.stop()
        return
    for process in reversed(processes):
        process.stop()


def platform_env(stack: Stack, extra_functions: str | None = None) -> dict[str, str]:
    """The environment of the functions host and of the in-process callers (tests, benchmarks)."""
    env = {
        "FIRESTORE_EMULATOR_HOST": stack.firestore_host,
        "PUBSUB_EMULATOR_HOST": stack.pubsub_host,
        # firebase-admin accepts the emulator's (unsigned) ID tokens; never set in production.
        "FIREBASE_AUTH_EMULATOR_HOST": stack.auth_host,
        "GOOGLE_CLOUD_PROJECT": "demo-platform",
        "PLATFORM_ENV": "local",
        "STRIPE_API_BASE": stack.stripe_api_base,
        "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "ALLOW_LOOPBACK_WEBHOOKS": "true",
        "FUNCTIONS_BASE_URL": stack.host_url,
        "REDIS_URL": stack.redis_url,
        "PYTHONPATH": str(REPO_ROOT),
    }
    if extra_functions:
        env["PLATFORM_EXTRA_FUNCTIONS"] = extra_functions
    return env
