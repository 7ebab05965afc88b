"""Runs one command and makes sure nothing of it outlives the process that started it.

`python localdev/child_guard.py -- COMMAND...` is what ManagedProcess starts (localdev/emulators.py): the
guard leads the process group of its own session and runs COMMAND in that group. When the process that
started the guard dies, however it dies (SIGKILL of `make dev`'s supervisor or of a test run, a closed
terminal), the guard kills the whole group: COMMAND and whatever it started, such as the JVM that the
Firestore emulator's launch script runs as its child (PR_SET_PDEATHSIG alone would reach the script only;
the JVM would live on and hold the port).

The guard asks the kernel for a signal at its parent's death (PR_SET_PDEATHSIG, SIGUSR1, which nothing
else sends it) and also polls its parent process id: the death signal follows the thread that started the
guard, which may end before the process does, so the guard acts only once its parent process is gone.
A stop on purpose (ManagedProcess.stop signals the whole group) reaches COMMAND directly; the guard waits
for it and exits with its status.

Standard library only, no platform imports: it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
POLL_S = 0.2


def _ask_for_death_signal() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGUSR1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the parent watch below still holds


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--" or len(argv) < 2:
        print("usage: child_guard.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    parent = os.getppid()
    orphaned = False

    def on_parent_death(_signum: int, _frame: object) -> None:
        nonlocal orphaned
        if os.getppid() != parent:
            orphaned = True  # else only the thread that started the guard ended

    signal.signal(signal.SIGUSR1, on_parent_death)
    # A stop signals the whole group (ManagedProcess.stop, Supervisor.kill): the guard outlives its child's
    # own shutdown, so the stopper's wait measures the child's, and reports the child's exit status.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    _ask_for_death_signal()
    if os.getppid() != parent:  # the parent died before the death signal was asked for
        orphaned = True
    child = subprocess.Popen(argv[1:])  # in the guard's own process group
    while child.poll() is None and not orphaned:
        if os.getppid() != parent:
            orphaned = True
            break
        time.sleep(POLL_S)
    if orphaned:
        # Nothing of the group may outlive the supervisor: this kills the guard too.
        os.killpg(os.getpgrp(), signal.SIGKILL)
    code = child.returncode
    return 128 - code if code is not None and code < 0 else (code or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
