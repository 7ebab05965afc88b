from __future__ import annotations

from shared.http import ApiRequest, Reply, Router
from shared.ledger_views import ENTRY_ID_PATTERN, list_ledger
from shared.pagination import page_params

router = Router()


@router.add(
    "GET",
    "/v1/credits/ledger",
    auth="user_or_key",
    summary="Every credit change, newest first, with its reason and the balance after it.",
)
def ledger(request: ApiRequest) -> Reply:
    return Reply(list_ledger(request.principal, page_params(request, ENTRY_ID_PATTERN)))
