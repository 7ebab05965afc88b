"""Credit packages and purchases (shared/purchases.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.auth_gate import require_user
from shared.http import ApiRequest, Reply, Router
from shared.purchases import (
    create_purchase,
    credit_packages,
    get_own_purchase,
    render_package,
    render_purchase,
)

router = Router()


class NewPurchase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package: str = Field(min_length=1, max_length=64)
    payment_method_id: str | None = Field(default=None, min_length=1, max_length=255)


@router.add("GET", "/v1/credit_packages", auth="none", summary="The packages on sale (system/config).")
def packages(request: ApiRequest) -> Reply:
    items = sorted(credit_packages().items(), key=lambda item: (item[1].price, item[0]))
    return Reply({"data": [render_package(k, v) for k, v in items], "has_more": False, "next_cursor": None})


@router.add("POST", "/v1/purchases", auth="user", summary="Buy a package; honours Idempotency-Key.")
def purchase(request: ApiRequest) -> Reply:
    body = request.parse(NewPurchase)
    user_id = require_user(request).user_id
    purchase_id, bought, created = create_purchase(
        user_id, body.package, body.payment_method_id, request.header("Idempotency-Key")
    )
    headers = {"Idempotent-Replayed": "true"} if not created else {}
    return Reply(render_purchase(purchase_id, bought), status=201 if created else 200, headers=headers)


@router.add("GET", "/v1/purchases/<purchase_id>", auth="user", summary="One of the caller's purchases.")
def get_purchase(request: ApiRequest) -> Reply:
    purchase_id = request.path_params["purchase_id"]
    return Reply(render_purchase(purchase_id, get_own_purchase(require_user(request).user_id, purchase_id)))
