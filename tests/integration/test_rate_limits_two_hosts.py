"""The limit is one limit across instances: two functions-host processes serve one key and together accept
about `limit` requests per second (within 20%), while a second customer on the same hosts is unaffected."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.emulators import free_port, functions_host
from tests.conftest import Project
from tests.support.platform import create_account

LIMIT = 10  # requests/s for the driven key
SECONDS = 5.0  # bounded: each thread stops at the deadline
THREADS_PER_HOST = 3


@pytest.fixture
def second_host(project: Project, tmp_path: Path) -> Iterator[str]:
    """Another host process on the same emulators and the same redis-server (os.environ holds them)."""
    port = free_port()
    host = functions_host(port, dict(os.environ), tmp_path).start()
    try:
        yield f"http://127.0.0.1:{port}/{project.id}/us-central1/api"
    finally:
        host.stop()


def _drive(
    url: str, key: str, deadline: float, counts: dict[tuple[str, int], int], lock: threading.Lock
) -> None:
    session = requests.Session()
    while time.monotonic() < deadline:
        status = session.get(url + "/v1/whoami", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        with lock:
            slot = (url, status.status_code)
            counts[slot] = counts.get(slot, 0) + 1


def test_two_hosts_share_one_limit(api: Any, second_host: str) -> None:
    create_account("alice")
    create_account("bob")
    token = api.user_token("alice")
    key = api.request("POST", "/v1/api_keys", token=token, json={"rate_limit": LIMIT}).json()["key"]
    bob = api.request("POST", "/v1/api_keys", token=api.user_token("bob"), json={}).json()["key"]
    counts: dict[tuple[str, int], int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=_drive, args=(url, key, deadline, counts, lock))
        for url in (api.base_url, second_host)
        for _ in range(THREADS_PER_HOST)
    ]
    for thread in threads:
        thread.start()
    # Meanwhile bob, on both hosts, is never limited by alice's traffic.
    bob_statuses = [
        requests.get(url + "/v1/whoami", headers={"Authorization": f"Bearer {bob}"}, timeout=10).status_code
        for url in (api.base_url, second_host) * 3
    ]
    for thread in threads:
        thread.join()
    hosts = (api.base_url, second_host)
    accepted = sum(counts.get((url, 200), 0) for url in hosts)
    refused = sum(counts.get((url, 429), 0) for url in hosts)
    assert {status for _, status in counts} <= {200, 429}, counts
    assert all(counts.get((url, 200), 0) > 0 for url in hosts), counts  # both hosts served the key
    assert refused > 0, counts  # the hosts were driven past the limit
    # At most the burst (LIMIT) plus LIMIT per second; at least 80% of LIMIT per second.
    assert 0.8 * LIMIT * SECONDS <= accepted <= LIMIT * (SECONDS + 1), counts
    assert bob_statuses == [200] * 6
