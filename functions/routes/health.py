from __future__ import annotations

from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import Health

router = Router(tags=("health",))


@router.add(
    "GET",
    "/v1/health",
    operation_id="get_health",
    auth="none",
    summary="Liveness: no authentication, no database.",
    response=Health,
)
def health(request: ApiRequest) -> Reply:
    return Reply({"status": "ok"})
