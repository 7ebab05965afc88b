"""Process management of the local platform: missing emulators give install advice; stopping a process stops
its whole group (the emulator wrappers are shell scripts with a java child)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localdev.emulators import EmulatorMissing, ManagedProcess, emulator_binary, free_port


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
    assert not _alive(child)


def test_missing_firebase_tools_fails_with_npm_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    from localdev.auth_emulator import firebase_cli

    monkeypatch.setenv("FIREBASE_TOOLS_BIN", "/nonexistent/firebase")
    with pytest.raises(EmulatorMissing, match="npm ci"):
        firebase_cli()
