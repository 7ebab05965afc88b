"""`make dev`: the whole local platform in the foreground until Ctrl-C.

Starts the Firestore and Pub/Sub emulators, the Firebase Auth emulator, localstripe, the functions host and the
dashboard (web/dist, `/v1/**` proxied to the api function) on the ports of firebase.json, wires triggers and
push subscriptions, seeds `system/config` and the job types (`echo`; a former `job_costs` migrated),
registers the `stripe_webhook` URL with localstripe, runs the scheduled functions' clock, prints the URLs and
waits. A process that dies is started again with the same
command line and environment (localdev/supervisor.py), with a line on the console: the functions host runs
the trigger calls it had accepted, localstripe keeps its data and webhook registration, and a restarted
emulator is wired again (an emulator JVM keeps its data in memory only: a crashed one starts empty).
Only Ctrl-C stops everything (the emulator JVMs included).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from localdev.auth_emulator import auth_emulator
from localdev.auth_emulator import configured_port as auth_port
from localdev.emulators import (
    REPO_ROOT,
    EmulatorMissing,
    ManagedProcess,
    firestore_emulator,
    functions_host,
    localstripe_server,
    port_holder,
    pubsub_emulator,
    redis_server,
)
from localdev.example_worker import WORKER_PORT
from localdev.supervisor import Supervisor
from localdev.web import dashboard_config, web_server

PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-platform")
LOCALSTRIPE_PORT = int(os.environ.get("LOCALSTRIPE_PORT", "8420"))
REDIS_PORT = int(os.environ.get("DEV_REDIS_PORT", "6379"))
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_local_development_secret")
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_local_development")
LOG_DIR = REPO_ROOT / ".platform-logs"


def emulator_ports() -> dict[str, int]:
    """firebase.json's ports; DEV_FIRESTORE_PORT, DEV_PUBSUB_PORT, DEV_FUNCTIONS_PORT, DEV_HOSTING_PORT
    override them (hosting: the dashboard)."""
    config = json.loads((REPO_ROOT / "firebase.json").read_text())["emulators"]
    return {
        name: int(os.environ.get(f"DEV_{name.upper()}_PORT") or config[name]["port"])
        for name in ("firestore", "pubsub", "functions", "hosting")
    }


def ensure_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            holder = port_holder(port) or "a process that just closed it"
            raise SystemExit(f"port {port} ({what}) is already in use by {holder}: stop it first")


def platform_env(ports: dict[str, int]) -> dict[str, str]:
    return {
        **os.environ,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{ports['firestore']}",
        "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{ports['pubsub']}",
        "FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{ports['auth']}",
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


def start_platform(log_dir: Path = LOG_DIR) -> tuple[Supervisor, dict[str, str]]:
    ports = {**emulator_ports(), "auth": auth_port()}
    ports_in_use = {
        **ports,
        "localstripe": LOCALSTRIPE_PORT,
        "redis": REDIS_PORT,
        "example worker": WORKER_PORT,
    }
    for name, port in ports_in_use.items():
        ensure_free(port, name)
    host_url = f"http://127.0.0.1:{ports['functions']}"
    env = platform_env(ports)
    os.environ.update(env)
    processes = [
        auth_emulator(ports["auth"], PROJECT, log_dir, log_dir),
        firestore_emulator(ports["firestore"], f"127.0.0.1:{ports['functions']}", log_dir),
        pubsub_emulator(ports["pubsub"], log_dir),
        localstripe_server(LOCALSTRIPE_PORT, log_dir),
        redis_server(REDIS_PORT, log_dir),
        functions_host(ports["functions"], env, log_dir),
        web_server(
            ports["hosting"],
            f"{host_url}/{PROJECT}/us-central1/api",
            dashboard_config(PROJECT, env["FIREBASE_AUTH_EMULATOR_HOST"], env["STRIPE_API_BASE"]),
            log_dir,
        ),
    ]
    started: list[ManagedProcess] = []
    try:
        for process in processes:
            print(f"starting {process.name} ...", flush=True)
            process.start()
            started.append(process)
        wire_and_seed(env, host_url)
        _register_stripe_webhook(env["STRIPE_API_BASE"], f"{host_url}/{PROJECT}/us-central1/stripe_webhook")
        worker = _start_example_worker(env, log_dir)
        started.append(worker)
    except BaseException:
        for process in reversed(started):
            process.stop()
        raise
    supervisor = Supervisor(started)
    # A restarted emulator has lost its trigger registrations, topics and subscriptions (and, being a JVM
    # holding its data in memory, the data too): wire it again and seed system/config if it is missing.
    for emulator in ("firestore", "pubsub"):
        supervisor.on_restart(emulator, lambda: wire_and_seed(env, host_url))
    return supervisor.start(), env


def wire_and_seed(env: dict[str, str], host_url: str) -> None:
    from localdev.wiring import wire_project
    from shared.core.clients import project_scope
    from shared.system.config import seed_system_config

    wire_project(PROJECT, env["FIRESTORE_EMULATOR_HOST"], host_url)
    with project_scope(PROJECT):
        created = seed_system_config()
    print(f"system/config {'seeded' if created else 'already present (counters kept)'}", flush=True)
    seed_job_types(env)


def seed_job_types(env: dict[str, str]) -> None:
    """The job types' seed (shared/workers/catalogue.py), run as the operator runs it on a deployed project:
    its own command (localdev imports only shared.core, shared.system and shared.models)."""
    command = [sys.executable, "-m", "shared.workers.catalogue", "--project", PROJECT]
    subprocess.run(command, env=env, cwd=REPO_ROOT, check=True, timeout=120)


def _start_example_worker(env: dict[str, str], log_dir: Path) -> ManagedProcess:
    """examples/worker, registered as the metered type `wordcount` (localdev/example_worker.py)."""
    from localdev.example_worker import example_worker, register_example_type
    from shared.core.clients import project_scope

    with project_scope(PROJECT):
        secret = register_example_type()
    worker = example_worker(secret, env, log_dir)
    print(f"starting {worker.name} (job type wordcount) ...", flush=True)
    return worker.start()


def _register_stripe_webhook(api_base: str, url: str) -> None:
    from localdev.stripe_setup import register_localstripe_webhook

    register_localstripe_webhook(api_base, url, STRIPE_WEBHOOK_SECRET)


def main() -> int:
    try:
        supervisor, env = start_platform()
    except EmulatorMissing as exc:
        print(exc, file=sys.stderr)
        return 3
    from localdev.scheduler import LocalScheduler

    scheduler = LocalScheduler(PROJECT)
    scheduler.start()
    host_url = env["FUNCTIONS_BASE_URL"]
    dashboard = f"http://127.0.0.1:{emulator_ports()['hosting']}/"
    print(
        "\nLocal platform is up (a process that dies is restarted; Ctrl-C stops everything):\n"
        f"  dashboard       {dashboard}  (open it, sign up with any email and password)\n"
        f"  quickstart      make demo  (in another terminal)\n"
        f"  api             {host_url}/{PROJECT}/us-central1/api/v1/health\n"
        f"  stripe_webhook  {host_url}/{PROJECT}/us-central1/stripe_webhook\n"
        f"  example worker  http://127.0.0.1:{WORKER_PORT}/  (job type wordcount, metered: examples/worker)\n"
        f"  Firestore       http://{env['FIRESTORE_EMULATOR_HOST']}  (project {PROJECT})\n"
        f"  Pub/Sub         http://{env['PUBSUB_EMULATOR_HOST']}\n"
        f"  Auth emulator   http://{env['FIREBASE_AUTH_EMULATOR_HOST']}  (sign-up/sign-in; admins: "
        "python -m localdev.make_admin EMAIL)\n"
        f"  localstripe     {env['STRIPE_API_BASE']}\n"
        f"  Redis           {env['REDIS_URL']}  (rate limits, usage)\n"
        f"  logs            {LOG_DIR}\n",
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):  # the supervisor's thread watches the children meanwhile
            pass
    finally:
        scheduler.stop()
        supervisor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
