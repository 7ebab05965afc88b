"""Maintenance mode: `system/config.maintenance_mode`, read at most every 10 s per instance."""

from __future__ import annotations

from shared.core.errors import ApiError, ErrorCode
from shared.core.ttl_cache import TtlCache

REFRESH_SECONDS = 10.0
_flag: TtlCache[str, bool] = TtlCache(REFRESH_SECONDS)


def maintenance_enabled() -> bool:
    return _flag.get("maintenance_mode", lambda _previous: read_maintenance_mode())


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
    _flag.forget("maintenance_mode")


def raise_if_maintenance() -> None:
    if maintenance_enabled():
        raise ApiError(
            ErrorCode.MAINTENANCE_MODE,
            "The platform is down for maintenance; try again shortly.",
            headers={"Retry-After": "60"},
        )
