"""Administrator routes: platform counters and the maintenance switch (both exempt from maintenance mode)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool

from shared.clients import firestore_client
from shared.counters import read_totals
from shared.http import ApiRequest, Reply, Router
from shared.maintenance import forget_cached_state
from shared.models import utc_now
from shared.resources import AdminStats, MaintenanceState
from shared.seed import config_ref, seed_system_config

router = Router(tags=("admin",))


class MaintenanceInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": True}]})

    enabled: StrictBool


@router.add(
    "GET", "/v1/admin/stats", auth="admin", summary="system/config counters, exact now.", response=AdminStats
)
def stats(request: ApiRequest) -> Reply:
    db = firestore_client()
    config = config_ref(db).get(field_paths=["maintenance_mode"])
    maintenance = bool((config.to_dict() or {}).get("maintenance_mode", False)) if config.exists else False
    # The shards are the source of truth; system/config receives their sums on each fold (docs/counters.md).
    return Reply({**read_totals(db).as_fields(), "maintenance_mode": maintenance})


@router.add(
    "PUT",
    "/v1/admin/maintenance",
    auth="admin",
    summary="Switch maintenance mode on or off.",
    body=MaintenanceInput,
    response=MaintenanceState,
    description="While on, every route but health, the OpenAPI description and admin answers 503.",
)
def set_maintenance(request: ApiRequest) -> Reply:
    body = request.parse(MaintenanceInput)
    db = firestore_client()
    seed_system_config(db)
    config_ref(db).update({"maintenance_mode": body.enabled, "updated_at": utc_now()})
    forget_cached_state()
    return Reply({"maintenance_mode": body.enabled})
