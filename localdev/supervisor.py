"""Keep the local platform's processes running: one that dies is started again with the same command line
and environment, as Cloud Run starts a new instance when one crashes (docs/reliability.md).

`make dev` and the test and benchmark stacks watch their children through one `Supervisor`. A child that
exits is logged on the console, started again (after a back-off when it keeps dying at once) and, once it
answers, its restart hooks run: what the restarted process lost and must be told again (localstripe's
webhook registration, the emulators' trigger and push wiring). Only `stop()` (Ctrl-C under `make dev`)
stops everything. `kill()` is the fault suite's and bench/faults' way to crash a child on purpose.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from localdev.emulators import ManagedProcess

POLL_S = 0.2
# A child that dies within this long of its start is crash-looping: wait before the next start, doubling.
STABLE_AFTER_S = 10.0
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0

Hook = Callable[[], None]


def console(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class _Child:
    process: ManagedProcess
    hooks: list[Hook] = field(default_factory=list)
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)
    backoff_s: float = FIRST_BACKOFF_S
    last_recovery_s: float | None = None  # from the exit being noticed to the child answering again
    down_until: float = 0.0  # a kill may ask for the child to stay down a while (an outage, not a blip)


class Supervisor:
    """Watches started processes and restarts the ones that exit (until `stop()`)."""

    def __init__(self, processes: list[ManagedProcess], echo: Callable[[str], None] = console) -> None:
        self._children = {process.name: _Child(process) for process in processes}
        self._echo = echo
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[ManagedProcess]:
        return iter([child.process for child in self._children.values()])

    def process(self, name: str) -> ManagedProcess:
        return self._children[name].process

    def on_restart(self, name: str, hook: Hook) -> None:
        """Run `hook` each time `name` has been restarted and answers again."""
        self._children[name].hooks.append(hook)

    def start(self) -> Supervisor:
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def restarts(self, name: str) -> int:
        with self._changed:
            return self._children[name].restarts

    def last_recovery_s(self, name: str) -> float | None:
        with self._changed:
            return self._children[name].last_recovery_s

    def wait_restarted(self, name: str, restarts: int, timeout_s: float = 120.0) -> None:
        """Block until `name` has been restarted `restarts` times in all (hooks run) and answers."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._children[name].restarts >= restarts, timeout_s):
                raise TimeoutError(f"{name} was not restarted within {timeout_s:.0f} s")

    def kill(self, name: str, down_s: float = 0.0, sig: signal.Signals = signal.SIGKILL) -> None:
        """Crash a child on purpose (its whole process group, as a machine losing it would); with `down_s`
        it is started again no sooner than that (an outage rather than a crash and a quick restart)."""
        child = self._children[name]
        running = child.process.process
        if running is None:
            raise RuntimeError(f"{name} is not running")
        child.down_until = time.monotonic() + down_s
        os.killpg(running.pid, sig)

    def stop(self) -> None:
        """Stop watching, then stop every child (last started first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=MAX_BACKOFF_S + 120)
        for child in reversed(list(self._children.values())):
            self._echo(f"stopping {child.process.name} ...")
            child.process.stop()

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_S):
            for child in self._children.values():
                running = child.process.process
                if running is None or running.poll() is None or self._stopping.is_set():
                    continue
                self._restart(child, running.returncode)

    def _restart(self, child: _Child, returncode: int) -> None:
        noticed = time.monotonic()
        name = child.process.name
        lived = noticed - child.started_at
        child.backoff_s = (
            FIRST_BACKOFF_S if lived >= STABLE_AFTER_S else min(child.backoff_s * 2, MAX_BACKOFF_S)
        )
        delay = 0.0 if lived >= STABLE_AFTER_S else child.backoff_s
        delay = max(delay, child.down_until - noticed)
        self._echo(
            f"{name} exited with {returncode} after {lived:.1f} s; restarting it"
            + (f" in {delay:.1f} s" if delay else "")
            + " (same command line and environment)"
        )
        child.process.stop()  # the rest of its process group, and its log file
        while not self._stopping.is_set():
            if delay and self._stopping.wait(delay):
                return
            child.started_at = time.monotonic()
            try:
                child.process.start()
                for hook in child.hooks:
                    hook()
            except Exception as exc:
                child.process.stop()
                delay = child.backoff_s = min(child.backoff_s * 2, MAX_BACKOFF_S)
                self._echo(f"{name} did not come back ({exc}); trying again in {delay:.1f} s")
                continue
            break
        else:
            return
        recovered = time.monotonic() - noticed
        with self._changed:
            child.restarts += 1
            child.last_recovery_s = recovered
            self._changed.notify_all()
        self._echo(f"{name} is back after {recovered:.1f} s (restart {child.restarts})")
