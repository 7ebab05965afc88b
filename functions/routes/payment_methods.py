"""Cards: a SetupIntent to add one, registering it, listing, default, removal (shared/billing/payment_methods.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.api.auth_gate import caller_user_id, is_test_key, require_user
from shared.api.http import ApiRequest, EmptyBody, Reply, Router
from shared.api.resources import Page, PaymentMethodDeleted, PaymentMethodResource, SetupIntentResource
from shared.billing.card_store import get_payment_method, list_payment_methods, payment_method_resource
from shared.billing.payment_methods import create_setup_intent, delete_card, register_card, set_default_card
from shared.core.errors import ErrorCode, not_found
from shared.core.pagination import PageQuery, page_of, page_params

router = Router(tags=("payment_methods",))
STRIPE_ERRORS = (ErrorCode.STRIPE_REJECTED, ErrorCode.STRIPE_ERROR, ErrorCode.ACCOUNT_MISSING)


class RegisterCard(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"setup_intent_id": "seti_1Nv0aB2eZvKYlo2C"}]}
    )

    setup_intent_id: str = Field(min_length=1, max_length=255)


@router.add(
    "POST",
    "/v1/payment_methods/setup_intent",
    operation_id="create_setup_intent",
    auth="user",
    summary="A SetupIntent to add a card.",
    body=EmptyBody,
    response=SetupIntentResource,
    status=201,
    errors=STRIPE_ERRORS,
)
def setup_intent(request: ApiRequest) -> Reply:
    return Reply(create_setup_intent(require_user(request).user_id), status=201)


@router.add(
    "POST",
    "/v1/payment_methods",
    operation_id="add_payment_method",
    auth="user",
    summary="Record the card of a confirmed SetupIntent.",
    body=RegisterCard,
    response=PaymentMethodResource,
    status=201,
    also=(200,),
    errors=(*STRIPE_ERRORS, ErrorCode.RESOURCE_MISSING, ErrorCode.SETUP_INTENT_INCOMPLETE),
)
def register(request: ApiRequest) -> Reply:
    body = request.parse(RegisterCard)
    payment_method_id, card, created = register_card(require_user(request).user_id, body.setup_intent_id)
    return Reply(payment_method_resource(payment_method_id, card), status=201 if created else 200)


@router.add(
    "GET",
    "/v1/payment_methods",
    operation_id="list_payment_methods",
    auth="user_or_key",
    summary="The caller's cards.",
    query=PageQuery,
    response=Page[PaymentMethodResource],
    description="The cards are live; test keys see none.",
)
def list_cards(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(PageQuery))
    cards = [] if is_test_key(request) else list_payment_methods(caller_user_id(request))
    return Reply(page_of(cards, params, payment_method_resource))


@router.add(
    "POST",
    "/v1/payment_methods/<payment_method_id>/default",
    operation_id="set_default_payment_method",
    auth="user",
    summary="Make default.",
    body=EmptyBody,
    response=PaymentMethodResource,
    errors=(*STRIPE_ERRORS, ErrorCode.RESOURCE_MISSING),
)
def make_default(request: ApiRequest) -> Reply:
    user_id = require_user(request).user_id
    payment_method_id = request.path_params["payment_method_id"]
    set_default_card(user_id, payment_method_id)
    card = get_payment_method(payment_method_id)
    if card is None or card.user_id != user_id:
        # Deleted while it was being made default (a concurrent DELETE or a detach event): gone, not a 500.
        raise not_found("payment method", "payment_method_id")
    return Reply(payment_method_resource(payment_method_id, card))


@router.add(
    "DELETE",
    "/v1/payment_methods/<payment_method_id>",
    operation_id="delete_payment_method",
    auth="user",
    summary="Detach and remove.",
    response=PaymentMethodDeleted,
    errors=STRIPE_ERRORS,
)
def remove(request: ApiRequest) -> Reply:
    payment_method_id = request.path_params["payment_method_id"]
    delete_card(require_user(request).user_id, payment_method_id)
    return Reply({"payment_method_id": payment_method_id, "deleted": True})
