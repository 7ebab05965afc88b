"""`make dev`: the whole local platform in the foreground until Ctrl-C.

Starts the Firestore and Pub/Sub emulators, localstripe and the functions host on the ports of firebase.json,
wires triggers and push subscriptions, seeds `system/config`, registers the `stripe_webhook` URL with
localstripe, runs the scheduled functions' clock, prints the URLs and waits. Ctrl-C stops every process
(the emulator JVMs included).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

from localdev.emulators import (
    REPO_ROOT,
    EmulatorMissing,
    ManagedProcess,
    firestore_emulator,
    functions_host,
    localstripe_server,
    pubsub_emulator,
    redis_server,
)

PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-platform")
LOCALSTRIPE_PORT = int(os.environ.get("LOCALSTRIPE_PORT", "8420"))
REDIS_PORT = int(os.environ.get("DEV_REDIS_PORT", "6379"))
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_local_development_secret")
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_local_development")
LOG_DIR = REPO_ROOT / ".platform-logs"


def emulator_ports() -> dict[str, int]:
    """firebase.json's ports; DEV_FIRESTORE_PORT, DEV_PUBSUB_PORT, DEV_FUNCTIONS_PORT override them."""
    config = json.loads((REPO_ROOT / "firebase.json").read_text())["emulators"]
    return {
        name: int(os.environ.get(f"DEV_{name.upper()}_PORT") or config[name]["port"])
        for name in ("firestore", "pubsub", "functions")
    }


def ensure_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} ({what}) is already in use: stop whatever runs there first")


def platform_env(ports: dict[str, int]) -> dict[str, str]:
    return {
        **os.environ,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{ports['firestore']}",
        "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{ports['pubsub']}",
        "FIREBASE_AUTH_EMULATOR_HOST": os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099"),
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "PLATFORM_ENV": "local",
        "STRIPE_API_BASE": f"http://127.0.0.1:{LOCALSTRIPE_PORT}",
        "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "ALLOW_LOOPBACK_WEBHOOKS": "true",
        "FUNCTIONS_BASE_URL": f"http://127.0.0.1:{ports['functions']}",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "PYTHONPATH": str(REPO_ROOT),
    }


def start_platform(log_dir: Path = LOG_DIR) -> tuple[list[ManagedProcess], dict[str, str]]:
    ports = emulator_ports()
    for name, port in {**ports, "localstripe": LOCALSTRIPE_PORT, "redis": REDIS_PORT}.items():
        ensure_free(port, name)
    host_url = f"http://127.0.0.1:{ports['functions']}"
    env = platform_env(ports)
    os.environ.update(env)
    processes = [
        firestore_emulator(ports["firestore"], f"127.0.0.1:{ports['functions']}", log_dir),
        pubsub_emulator(ports["pubsub"], log_dir),
        localstripe_server(LOCALSTRIPE_PORT, log_dir),
        redis_server(REDIS_PORT, log_dir),
        functions_host(ports["functions"], env, log_dir),
    ]
    started: list[ManagedProcess] = []
    try:
        for process in processes:
            print(f"starting {process.name} ...", flush=True)
            process.start()
            started.append(process)
        from localdev.wiring import wire_project
        from shared.core.clients import project_scope
        from shared.system.config import seed_system_config

        wire_project(PROJECT, env["FIRESTORE_EMULATOR_HOST"], host_url)
        with project_scope(PROJECT):
            created = seed_system_config()
        print(f"system/config {'seeded' if created else 'already present (counters kept)'}", flush=True)
        _register_stripe_webhook(env["STRIPE_API_BASE"], f"{host_url}/{PROJECT}/us-central1/stripe_webhook")
    except BaseException:
        stop_all(started)
        raise
    return started, env


def _register_stripe_webhook(api_base: str, url: str) -> None:
    from localdev.stripe_setup import register_localstripe_webhook

    register_localstripe_webhook(api_base, url, STRIPE_WEBHOOK_SECRET)


def stop_all(processes: list[ManagedProcess]) -> None:
    for process in reversed(processes):
        print(f"stopping {process.name} ...", flush=True)
        process.stop()


def main() -> int:
    try:
        processes, env = start_platform()
    except EmulatorMissing as exc:
        print(exc, file=sys.stderr)
        return 3
    from localdev.scheduler import LocalScheduler

    scheduler = LocalScheduler(PROJECT)
    scheduler.start()
    host_url = env["FUNCTIONS_BASE_URL"]
    print(
        "\nLocal platform is up (Ctrl-C stops everything):\n"
        f"  api             {host_url}/{PROJECT}/us-central1/api/v1/health\n"
        f"  stripe_webhook  {host_url}/{PROJECT}/us-central1/stripe_webhook\n"
        f"  Firestore       http://{env['FIRESTORE_EMULATOR_HOST']}  (project {PROJECT})\n"
        f"  Pub/Sub         http://{env['PUBSUB_EMULATOR_HOST']}\n"
        f"  localstripe     {env['STRIPE_API_BASE']}\n"
        f"  Redis           {env['REDIS_URL']}  (rate limits, usage)\n"
        f"  logs            {LOG_DIR}\n",
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            for process in processes:
                if process.process is not None and process.process.poll() is not None:
                    print(f"{process.name} exited unexpectedly; see {LOG_DIR}", file=sys.stderr)
                    stop.set()
    finally:
        scheduler.stop()
        stop_all(processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
