from __future__ import annotations

from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import LedgerEntryResource, Page
from shared.core.pagination import PageQuery, page_params
from shared.credits.views import ENTRY_ID_PATTERN, list_ledger

router = Router(tags=("credits",))


@router.add(
    "GET",
    "/v1/credits/ledger",
    operation_id="list_ledger_entries",
    auth="user_or_key",
    summary="Every credit change, newest first, with its reason and the balance after it.",
    query=PageQuery,
    response=Page[LedgerEntryResource],
)
def ledger(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(PageQuery), ENTRY_ID_PATTERN)
    return Reply(list_ledger(request.principal, params))
