"""`make dev`'s runner: comes up on its own ports (system/config and the job types seeded), answers health through the host and through the dashboard's
origin, runs the Auth emulator, restarts the functions host when it is killed (a console line says so), and
Ctrl-C (SIGINT) stops every process it started, emulator JVMs included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import requests

from localdev.emulators import REPO_ROOT, free_port
from shared.core.function_registry import FUNCTIONS
from tests.support.waiting import eventually


def _processes_mentioning(*needles: str) -> list[str]:
    lines = subprocess.run(
        ["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [line for line in lines if any(n in line for n in needles)]


def _pids_of(*needles: str) -> list[int]:
    lines = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    # The process itself, not the guard that started it (localdev/child_guard.py names it in its arguments).
    return [
        int(line.split()[0])
        for line in lines
        if all(n in line for n in needles) and "ps -ww" not in line and "child_guard.py" not in line
    ]


def test_dev_platform_comes_up_and_ctrl_c_stops_everything() -> None:
    ports = {
        name: free_port()
        for name in ("FIRESTORE", "PUBSUB", "FUNCTIONS", "LOCALSTRIPE", "AUTH", "HOSTING", "REDIS", "WORKER")
    }
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_EMULATOR_HOST") and k not in ("PLATFORM_EXTRA_FUNCTIONS", "REDIS_URL")
    }
    env.update({f"DEV_{k}_PORT": str(v) for k, v in ports.items() if k != "LOCALSTRIPE"})
    env["LOCALSTRIPE_PORT"] = str(ports["LOCALSTRIPE"])
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev.dev"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    needles = [
        f"--port={ports['FIRESTORE']}",
        f"--port={ports['PUBSUB']}",
        f"--port {ports['FUNCTIONS']}",
        f"--port {ports['HOSTING']}",
        f"firebase-auth-{ports['AUTH']}.json",
        f"127.0.0.1:{ports['REDIS']}",  # redis-server's title (rate limits, usage): stopped too
    ]
    stdout = process.stdout
    assert stdout is not None  # stdout=PIPE
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    try:
        eventually(
            lambda: any("Local platform is up" in line for line in lines) or process.poll() is not None,
            timeout=600,  # a condition, not a timing: the Auth emulator alone took 112 s on a loaded machine
        )
        assert process.poll() is None, "".join(lines)
        health = f"http://127.0.0.1:{ports['FUNCTIONS']}/demo-platform/us-central1/api/v1/health"
        assert requests.get(health, timeout=5).json() == {"status": "ok"}
        ready = requests.get(f"http://127.0.0.1:{ports['FUNCTIONS']}/_host/ready", timeout=5).json()
        assert set(ready["functions"]) == {f.name for f in FUNCTIONS}
        # The dashboard's origin serves the SPA and proxies /v1 to the api function.
        site = f"http://127.0.0.1:{ports['HOSTING']}"
        assert requests.get(f"{site}/v1/health", timeout=5).json() == {"status": "ok"}
        assert requests.get(f"{site}/dashboard-config.json", timeout=5).json()["authEmulatorUrl"] == (
            f"http://127.0.0.1:{ports['AUTH']}"
        )
        auth = requests.get(f"http://127.0.0.1:{ports['AUTH']}/", timeout=5).json()
        assert auth["authEmulator"]["ready"] is True
        assert _processes_mentioning(f"127.0.0.1:{ports['REDIS']}"), "redis-server is running"
        jvms = [p for p in _processes_mentioning("java ") if any(n in p for n in needles)]
        assert len(jvms) == 2, _processes_mentioning("java ")
        # A child that dies is restarted, with a line on the console; the platform answers again.
        [host_pid] = _pids_of("localdev.host", f"--port {ports['FUNCTIONS']}")
        os.kill(
            host_pid, signal.SIGKILL
        )  # its guard then exits with it, and the supervisor starts both again
        eventually(lambda: any("functions-host is back" in line for line in lines), timeout=300)
        assert process.poll() is None, "".join(lines)
        assert requests.get(health, timeout=5).json() == {"status": "ok"}
        assert _pids_of("localdev.host", f"--port {ports['FUNCTIONS']}") != [host_pid]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=90)
        reader.join(timeout=10)
    output = "".join(lines)
    assert process.returncode == 0, output
    assert "Local platform is up" in output and "system/config seeded" in output
    assert "job types of demo-platform: created ['echo']" in output  # the seed, as the operator runs it
    assert [p for p in _processes_mentioning(*needles) if "ps -ww" not in p] == []
