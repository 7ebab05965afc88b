"""Administrator routes: platform counters and the maintenance switch (both exempt from maintenance mode)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool

from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import AdminStats, MaintenanceState
from shared.counters.service import read_totals
from shared.keys.usage import read_usage_totals
from shared.system.maintenance import read_maintenance_mode, set_maintenance_mode

router = Router(tags=("admin",))


class MaintenanceInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": True}]})

    enabled: StrictBool


@router.add(
    "GET", "/v1/admin/stats", auth="admin", summary="system/config counters, exact now.", response=AdminStats
)
def stats(request: ApiRequest) -> Reply:
    # The shards are the source of truth; system/config receives their sums on each fold (docs/counters.md).
    return Reply(
        {
            **read_totals().as_fields(),
            "maintenance_mode": read_maintenance_mode(),
            "usage": read_usage_totals(),
        }
    )


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
    set_maintenance_mode(body.enabled)
    return Reply({"maintenance_mode": body.enabled})
