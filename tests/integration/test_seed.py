"""Seeding system/config: defaults once, idempotent, never overwriting live counters."""

from __future__ import annotations

from shared.models import SystemConfig
from shared.system.config import config_ref, seed_system_config
from tests.conftest import Project


def test_seed_creates_defaults(project: Project) -> None:
    assert seed_system_config() is True
    config = SystemConfig.from_firestore(config_ref().get().to_dict())
    assert config == SystemConfig.defaults()
    prices = {k: (p.credits, p.price) for k, p in config.credit_packages.items()}
    assert prices == {
        "starter": (120, 1000),
        "popular": (400, 3000),
        "pro": (1100, 7500),
        "mega": (2500, 15000),
    }
    assert (config.total_users, config.total_jobs, config.founding_member_count) == (0, 0, 0)
    assert config.maintenance_mode is False


def test_seed_is_idempotent_and_keeps_live_counters(project: Project) -> None:
    seed_system_config()
    config_ref().update({"total_users": 42, "maintenance_mode": True})
    assert seed_system_config() is False
    data = config_ref().get().to_dict() or {}
    assert data["total_users"] == 42 and data["maintenance_mode"] is True


def test_seed_adds_only_missing_fields(project: Project) -> None:
    config_ref().set({"total_jobs": 9, "credit_packages": {}})
    seed_system_config()
    data = config_ref().get().to_dict() or {}
    assert data["total_jobs"] == 9 and data["credit_packages"] == {}
    assert data["founding_member_count"] == 0 and data["maintenance_mode"] is False
