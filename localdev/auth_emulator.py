"""The Firebase Auth emulator (firebase-tools from npm, `--only auth`): real sign-up / sign-in locally.

firebase-tools is pinned in the repository's package.json and installed by the make targets (`npm ci`). Only
the Auth emulator is used: it is plain JavaScript, so Java 21 (needed by firebase-tools' own Firestore
emulator) is not. The CLI reads its port from a config file, so each start writes a small one of its own
(a free port in tests, firebase.json's `auth` port under `make dev`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from localdev.emulators import REPO_ROOT, EmulatorMissing, ManagedProcess, free_port

NODE_ADVICE = (
    "The Firebase Auth emulator (firebase-tools) is not installed. Run `npm ci` in the repository root\n"
    "(the make targets do it by themselves); Node.js 20+ and npm are required."
)


def firebase_cli() -> Path:
    explicit = os.environ.get("FIREBASE_TOOLS_BIN")
    path = Path(explicit) if explicit else REPO_ROOT / "node_modules" / ".bin" / "firebase"
    if not path.exists():
        raise EmulatorMissing(f"{path} does not exist.\n{NODE_ADVICE}")
    if shutil.which("node") is None:
        raise EmulatorMissing(f"node is not on PATH.\n{NODE_ADVICE}")
    return path


def configured_port() -> int:
    """firebase.json's `emulators.auth.port` (9099); DEV_AUTH_PORT overrides it."""
    config = json.loads((REPO_ROOT / "firebase.json").read_text())["emulators"]
    return int(os.environ.get("DEV_AUTH_PORT") or config["auth"]["port"])


def auth_emulator(port: int, project: str, work_dir: Path, log_dir: Path | None = None) -> ManagedProcess:
    """The Auth emulator on 127.0.0.1:port; ID tokens it issues name `project` as audience."""
    cli = firebase_cli()
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / f"firebase-auth-{port}.json"
    # The CLI also opens an emulator hub (4400) and a log port (4500) by default: free ports instead, so
    # several stacks (test sessions, `make dev`) can run side by side.
    config = {
        "emulators": {
            "auth": {"host": "127.0.0.1", "port": port},
            "hub": {"host": "127.0.0.1", "port": free_port()},
            "logging": {"host": "127.0.0.1", "port": free_port()},
            "ui": {"enabled": False},
        }
    }
    config_path.write_text(json.dumps(config))
    env = {
        **os.environ,
        # Offline and unattended: no update check, no usage prompt, no telemetry.
        "FIREBASE_CLI_DISABLE_UPDATE_CHECK": "true",
        "NO_UPDATE_NOTIFIER": "1",
        "CI": "true",
    }
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)  # the CLI would refuse to start a second one
    return ManagedProcess(
        "auth",
        [
            str(cli),
            "emulators:start",
            "--only",
            "auth",
            "--project",
            project,
            "--config",
            str(config_path),
        ],
        # The emulator answers its root with {"authEmulator": {"ready": true, ...}} once it listens.
        f"http://127.0.0.1:{port}/",
        env=env,
        log_path=log_dir / "auth.log" if log_dir else None,
    )
