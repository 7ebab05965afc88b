"""Maintenance mode: `system/config.maintenance_mode`, read at most every 10 s per instance."""

from __future__ import annotations

import threading
import time

from shared.clients import current_project
from shared.errors import ApiError

REFRESH_SECONDS = 10.0
_lock = threading.Lock()
_cache: dict[str, tuple[float, bool]] = {}


def maintenance_enabled() -> bool:
    project = current_project()
    now = time.monotonic()
    cached = _cache.get(project)
    if cached is not None and now - cached[0] < REFRESH_SECONDS:
        return cached[1]
    with _lock:
        cached = _cache.get(project)
        if cached is not None and now - cached[0] < REFRESH_SECONDS:
            return cached[1]
        from shared.seed import config_ref

        snapshot = config_ref().get(field_paths=["maintenance_mode"])
        enabled = (
            bool((snapshot.to_dict() or {}).get("maintenance_mode", False)) if snapshot.exists else False
        )
        _cache[project] = (time.monotonic(), enabled)
        return enabled


def forget_cached_state() -> None:
    """This instance re-reads the flag on its next request (used right after an admin toggles it here)."""
    with _lock:
        _cache.pop(current_project(), None)


def raise_if_maintenance() -> None:
    if maintenance_enabled():
        raise ApiError(
            "maintenance_mode",
            "The platform is down for maintenance; try again shortly.",
            headers={"Retry-After": "60"},
        )
