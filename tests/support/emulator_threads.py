"""The Pub/Sub emulator's thread count, the measure of what a test run left wired in it."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from localdev.supervisor import Supervisor

# Threads the emulator may hold at the end of a run beyond its start: its pools grow with load and shrink
# after their keep-alive; what leaked subscriptions cost is thousands.
THREAD_ALLOWANCE = 150
SETTLE_S = 90.0


@functools.cache
def pubsub_admin() -> tuple[pubsub_v1.PublisherClient, pubsub_v1.SubscriberClient]:
    """One publisher and one subscriber for the whole run's wiring (a client per test is a channel per test)."""
    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


def pubsub_threads(supervisor: Supervisor) -> int:
    """Threads of every process in the emulator's process group (its launcher script and the JVM)."""
    process = supervisor.process("pubsub").process
    assert process is not None
    group = os.getpgid(process.pid)
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while being read
        # After the command name: state, ppid, pgrp, ... num_threads is the 18th field after it.
        if int(fields[2]) == group:
            total += int(fields[17])
    return total


def settled_pubsub_threads(supervisor: Supervisor, threads_at_start: int) -> int:
    """The count once the emulator's idle pool threads have ended, or after SETTLE_S, whichever is first."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        count = pubsub_threads(supervisor)
        if count <= threads_at_start + THREAD_ALLOWANCE or time.monotonic() > deadline:
            return count
        time.sleep(1.0)
