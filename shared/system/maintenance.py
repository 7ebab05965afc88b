"""Maintenance mode: `system/config.maintenance_mode`, read at most every 10 s per instance."""

from __future__ import annotations

import threading
import time

from shared.core.clients import current_project
from shared.core.errors import ApiError, ErrorCode

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
        enabled = read_maintenance_mode()
        _cache[project] = (time.monotonic(), enabled)
        return enabled


def read_maintenance_mode() -> bool:
    """The stored flag now, bypassing this instance's cache."""
    from shared.system.config import config_ref

    snapshot = config_ref().get(field_paths=["maintenance_mode"])
    return bool((snapshot.to_dict() or {}).get("maintenance_mode", False)) if snapshot.exists else False


def set_maintenance_mode(enabled: bool) -> None:
    """Store the flag (seeding system/config first if it is missing); this instance sees it at once."""
    from shared.models import utc_now
    from shared.system.config import config_ref, seed_system_config

    seed_system_config()
    config_ref().update({"maintenance_mode": enabled, "updated_at": utc_now()})
    forget_cached_state()


def forget_cached_state() -> None:
    """This instance re-reads the flag on its next request (used right after an admin toggles it here)."""
    with _lock:
        _cache.pop(current_project(), None)


def raise_if_maintenance() -> None:
    if maintenance_enabled():
        raise ApiError(
            ErrorCode.MAINTENANCE_MODE,
            "The platform is down for maintenance; try again shortly.",
            headers={"Retry-After": "60"},
        )
