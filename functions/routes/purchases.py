"""Credit packages and purchases (shared/billing/purchases.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.api.auth_gate import require_user
from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import CreditPackageResource, Page, PurchaseResource
from shared.billing.purchases import (
    base_credit_rate,
    create_purchase,
    credit_package_resource,
    credit_packages,
    get_own_purchase,
    purchase_resource,
)
from shared.core.errors import ErrorCode
from shared.core.idempotency import IDEMPOTENCY_HEADER, idempotency_key_from, replay_headers
from shared.core.pagination import PageQuery, page_of, page_params

router = Router(tags=("purchases",))


class NewPurchase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"package": "starter"}, {"package": "pro", "payment_method_id": "pm_123"}]
        },
    )

    package: str = Field(min_length=1, max_length=64)
    payment_method_id: str | None = Field(default=None, min_length=1, max_length=255)


@router.add(
    "GET",
    "/v1/credit_packages",
    operation_id="list_credit_packages",
    auth="none",
    summary="The packages on sale (system/config), cheapest first.",
    query=PageQuery,
    response=Page[CreditPackageResource],
)
def packages(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(PageQuery))
    on_sale = credit_packages()
    items = sorted(on_sale.items(), key=lambda item: (item[1].price, item[0]))
    base = base_credit_rate(on_sale.values())
    return Reply(
        page_of(items, params, lambda package_id, package: credit_package_resource(package_id, package, base))
    )


@router.add(
    "POST",
    "/v1/purchases",
    operation_id="create_purchase",
    auth="user",
    summary="Buy a package; honours Idempotency-Key.",
    body=NewPurchase,
    response=PurchaseResource,
    status=201,
    also=(200,),
    errors=(
        ErrorCode.IDEMPOTENCY_KEY_IN_USE,
        ErrorCode.RESOURCE_MISSING,
        ErrorCode.NO_DEFAULT_PAYMENT_METHOD,
        ErrorCode.CARD_DECLINED,
        ErrorCode.STRIPE_REJECTED,
        ErrorCode.STRIPE_ERROR,
        ErrorCode.ACCOUNT_MISSING,
    ),
    headers=(IDEMPOTENCY_HEADER,),
    description="A repeat with the same Idempotency-Key answers 200 with the first purchase.",
)
def purchase(request: ApiRequest) -> Reply:
    body = request.parse(NewPurchase)
    user_id = require_user(request).user_id
    purchase_id, bought, created = create_purchase(
        user_id,
        body.package,
        body.payment_method_id,
        idempotency_key_from(request.header(IDEMPOTENCY_HEADER)),
    )
    headers = replay_headers(not created)
    return Reply(purchase_resource(purchase_id, bought), status=201 if created else 200, headers=headers)


@router.add(
    "GET",
    "/v1/purchases/<purchase_id>",
    operation_id="get_purchase",
    auth="user",
    summary="One of the caller's purchases.",
    response=PurchaseResource,
)
def get_purchase(request: ApiRequest) -> Reply:
    purchase_id = request.path_params["purchase_id"]
    return Reply(purchase_resource(purchase_id, get_own_purchase(require_user(request).user_id, purchase_id)))
