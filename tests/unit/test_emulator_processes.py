"""Process management of the local platform: missing emulators give install advice; stopping a process stops
its whole group (the emulator wrappers are shell scripts with a java child)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localdev.emulators import EmulatorMissing, ManagedProcess, emulator_binary, free_port
from tests.support.waiting import eventually


def test_missing_emulator_fails_with_install_advice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_BIN", "/nonexistent/cloud_firestore_emulator")
    with pytest.raises(EmulatorMissing, match="gcloud components install cloud-firestore-emulator"):
        emulator_binary(
            "FIRESTORE_EMULATOR_BIN", "platform/cloud-firestore-emulator/cloud_firestore_emulator"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True
    ).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_stop_kills_the_children_of_a_wrapper_script(tmp_path: object) -> None:
    port = free_port()
    # A wrapper that, like the emulator scripts, starts a long-lived child serving the ready URL.
    server = f"{sys.executable} -m http.server {port} --bind 127.0.0.1"
    wrapper = ManagedProcess(
        "wrapper", ["bash", "-c", f"{server} & echo $! > {tmp_path}/child; wait"], f"http://127.0.0.1:{port}/"
    )
    wrapper.start(timeout=30)
    child = int(Path(f"{tmp_path}/child").read_text())
    assert _alive(child)
    wrapper.stop()
    # SIGKILL is delivered asynchronously: the orphaned child is gone (or a zombie) moments later.
    eventually(lambda: not _alive(child), timeout=5, message="the wrapper's child is dead")


def test_missing_firebase_tools_fails_with_npm_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    from localdev.auth_emulator import firebase_cli

    monkeypatch.setenv("FIREBASE_TOOLS_BIN", "/nonexistent/firebase")
    with pytest.raises(EmulatorMissing, match="npm ci"):
        firebase_cli()


# A supervisor in a process of its own, as `make dev` and a test run have one: two children, one a wrapper
# script whose long-lived grandchild serves the port (as the Firestore emulator's script runs its JVM), one
# started from a thread that then ends (the death signal follows threads; the guard must not act on it).
SUPERVISOR_SCRIPT = """
import sys, threading, time
from pathlib import Path
from localdev.emulators import ManagedProcess
from localdev.supervisor import Supervisor

out, wrapper_port, direct_port = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
server = f"{sys.executable} -m http.server {{}} --bind 127.0.0.1"
wrapper = ManagedProcess(
    "wrapper",
    ["bash", "-c", f"{server.format(wrapper_port)} & echo $! > {out}/grandchild; wait"],
    f"http://127.0.0.1:{wrapper_port}/",
)
direct = ManagedProcess("direct", server.format(direct_port).split(), f"http://127.0.0.1:{direct_port}/")
wrapper.start(timeout=60)
starter = threading.Thread(target=direct.start, kwargs={"timeout": 60})
starter.start()
starter.join()
supervisor = Supervisor([wrapper, direct], echo=lambda line: None).start()
(out / "children").write_text(f"{wrapper.process.pid} {direct.process.pid}")
time.sleep(600)
"""


def test_children_die_with_a_supervisor_killed_outright(tmp_path: Path) -> None:
    from localdev.emulators import port_holder

    wrapper_port, direct_port = free_port(), free_port()
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR_SCRIPT, str(tmp_path), str(wrapper_port), str(direct_port)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        eventually(lambda: (tmp_path / "children").is_file(), timeout=90, message="the children started")
        children = [int(pid) for pid in (tmp_path / "children").read_text().split()]
        grandchild = int((tmp_path / "grandchild").read_text())
        everything = [*children, grandchild]
        assert all(_alive(pid) for pid in everything)
        # The thread that started `direct` is gone: the child lives on while its supervisor does.
        assert port_holder(direct_port) is not None and _alive(children[1])
        # `make dev` names what holds a port: here the grandchild, the http.server of the wrapper script.
        holder = port_holder(wrapper_port)
        assert holder is not None and holder.startswith(f"pid {grandchild} ") and "http.server" in holder
        supervisor.kill()  # SIGKILL: no cleanup code of the supervisor runs
        supervisor.wait(timeout=10)
        eventually(
            lambda: not any(_alive(pid) for pid in everything),
            timeout=10,
            message="no child or grandchild left",
        )
        assert port_holder(wrapper_port) is None and port_holder(direct_port) is None
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp* writes them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].rpartition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_local_stand_ins_listen_on_loopback_only(tmp_path: Path) -> None:
    from localdev.emulators import localstripe_server
    from localdev.example_worker import example_worker

    loopback = "0100007F"  # 127.0.0.1, as /proc/net/tcp writes it
    stripe_port, worker_port = free_port(), free_port()
    stripe = localstripe_server(stripe_port, tmp_path)
    worker = example_worker("whsec_" + "dGVzdA==", dict(os.environ), tmp_path, port=worker_port)
    for process, port in ((stripe, stripe_port), (worker, worker_port)):
        process.start(timeout=120)
        try:
            assert _listening_addresses(port) == {loopback}, process.name
        finally:
            process.stop()
