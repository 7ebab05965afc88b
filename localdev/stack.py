"""One local platform stack for a test session or a benchmark: emulators on free ports (or reused ones named by
FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST), localstripe and the functions host."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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

STRIPE_WEBHOOK_SECRET = "whsec_test_platform_secret"
STRIPE_SECRET_KEY = "sk_test_platform"


@dataclass(frozen=True)
class Stack:
    firestore_host: str
    pubsub_host: str
    stripe_api_base: str
    host_url: str
    redis_url: str


def start_stack(log_dir: Path, extra_functions: str | None = None) -> tuple[Stack, list[ManagedProcess]]:
    """Start what is not given by FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST, then the host.
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
    )
    os.environ.update(platform_env(stack, extra_functions))
    host = functions_host(host_port, dict(os.environ), log_dir)
    try:
        host.start()
    except BaseException:
        stop_stack(started)
        raise
    started.append(host)
    return stack, started


def stop_stack(processes: list[ManagedProcess]) -> None:
    for process in reversed(processes):
        process.stop()


def platform_env(stack: Stack, extra_functions: str | None = None) -> dict[str, str]:
    """The environment of the functions host and of the in-process callers (tests, benchmarks)."""
    env = {
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
        "REDIS_URL": stack.redis_url,
        "PYTHONPATH": str(REPO_ROOT),
    }
    if extra_functions:
        env["PLATFORM_EXTRA_FUNCTIONS"] = extra_functions
    return env
