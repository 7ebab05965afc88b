from __future__ import annotations

from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import CreditGrantResource, LedgerEntryResource, Page
from shared.core.pagination import PageQuery, page_params
from shared.credits.granting import list_grants
from shared.credits.ledger import GRANT_ID_PATTERN
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


@router.add(
    "GET",
    "/v1/credit_grants",
    operation_id="list_credit_grants",
    auth="user_or_key",
    summary="The caller's credit grants, newest first, with what is left of each and when it expires.",
    query=PageQuery,
    response=Page[CreditGrantResource],
    description="Credits are spent from the active grants by priority (lowest first), then the soonest"
    " expires_at (never-expiring last), promotional before paid, then the oldest (docs/credits.md). Test keys"
    " see an empty list (credits exist in live mode only).",
)
def credit_grants(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(PageQuery), GRANT_ID_PATTERN)
    return Reply(list_grants(request.principal, params))
