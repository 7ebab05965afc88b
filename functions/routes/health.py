from __future__ import annotations

from shared.http import ApiRequest, Reply, Router

router = Router()


@router.add("GET", "/v1/health", auth="none", summary="Liveness: no authentication, no database.")
def health(request: ApiRequest) -> Reply:
    return Reply({"status": "ok"})
