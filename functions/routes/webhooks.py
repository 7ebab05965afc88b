"""The caller's webhook endpoint: settings, health, secret rotation, test event, delivery attempts, and the
controls to send an event again or recover failed ones."""

from __future__ import annotations

from pydantic import Field

from shared.api.auth_gate import caller_user_id, is_test_key, require_user_or_live_key
from shared.api.http import NO_STORE, ApiRequest, EmptyBody, Reply, Router
from shared.api.resources import (
    DeliveryAttempt,
    Page,
    WebhookDeleted,
    WebhookEndpointResource,
    WebhookEventRetried,
    WebhookRecovered,
    WebhookTestEvent,
)
from shared.core.errors import ErrorCode
from shared.core.pagination import PageQuery, page_params
from shared.core.principals import KeyPrincipal
from shared.webhooks.controls import RecoverInput, enabled_endpoint, health_resource, recover, retry_event
from shared.webhooks.delivery_log import DEFAULT_LIMIT, MAX_LIMIT, list_deliveries
from shared.webhooks.endpoints import (
    WebhookEndpointInput,
    delete_endpoint,
    put_endpoint,
    rotate_secret,
    webhook_id_for,
)
from shared.webhooks.events import create_test_event
from shared.webhooks.quotas import Control, take_control

router = Router(tags=("webhook",))
CONCURRENT = (ErrorCode.SERVICE_UNAVAILABLE,)
LIVE_ONLY = "Test keys answer 403 livemode_required: they never change what live traffic uses."


class DeliveriesQuery(PageQuery):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size, 1 to 100.")


@router.add(
    "GET",
    "/v1/webhook",
    operation_id="get_webhook",
    auth="user_or_key",
    summary="The caller's webhook endpoint and its health.",
    response=WebhookEndpointResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
    description="status healthy|failing|disabled, consecutive_failures and backlog describe delivery health.",
)
def get_webhook(request: ApiRequest) -> Reply:
    return Reply(health_resource(caller_user_id(request)))


@router.add(
    "PUT",
    "/v1/webhook",
    operation_id="set_webhook",
    auth="user_or_key",
    summary="Create or replace the endpoint.",
    body=WebhookEndpointInput,
    response=WebhookEndpointResource,
    status=201,
    also=(200,),
    errors=(*CONCURRENT, ErrorCode.LIVEMODE_REQUIRED),
    description="201 with the signing secret when created; 200 without it when replaced. " + LIVE_ONLY,
)
def put_webhook(request: ApiRequest) -> Reply:
    body = request.parse(WebhookEndpointInput)
    resource, created = put_endpoint(require_user_or_live_key(request), body)
    return Reply(resource, status=201 if created else 200, headers=NO_STORE if created else {})


@router.add(
    "DELETE",
    "/v1/webhook",
    operation_id="delete_webhook",
    auth="user_or_key",
    summary="Remove the endpoint.",
    response=WebhookDeleted,
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.LIVEMODE_REQUIRED),
    description=LIVE_ONLY,
)
def delete_webhook(request: ApiRequest) -> Reply:
    return Reply(delete_endpoint(require_user_or_live_key(request)))


@router.add(
    "POST",
    "/v1/webhook/rotate_secret",
    operation_id="rotate_webhook_secret",
    auth="user",
    summary="New secret; old one signs for 24 h (Cache-Control: no-store).",
    body=EmptyBody,
    response=WebhookEndpointResource,
    errors=(ErrorCode.RESOURCE_MISSING, *CONCURRENT),
)
def rotate_webhook_secret(request: ApiRequest) -> Reply:
    return Reply(rotate_secret(caller_user_id(request)), headers=NO_STORE)


@router.add(
    "POST",
    "/v1/webhook/test",
    operation_id="send_test_webhook",
    auth="user_or_key",
    summary="Send a webhook.test event.",
    body=EmptyBody,
    response=WebhookTestEvent,
    status=202,
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.WEBHOOK_DISABLED),
)
def send_test_event(request: ApiRequest) -> Reply:
    user_id = caller_user_id(request)
    enabled_endpoint(user_id)  # 404 without an endpoint, 409 when it is disabled
    take_control(user_id, Control.TEST_SEND)  # 429 past the account's hourly cap
    # A test key's test event says livemode false, like its jobs' events; a signed-in user's says true.
    livemode = request.principal.livemode if isinstance(request.principal, KeyPrincipal) else True
    event_id = create_test_event(user_id, webhook_id_for(user_id), livemode)
    return Reply({"event_id": event_id, "type": "webhook.test", "status": "pending"}, status=202)


@router.add(
    "GET",
    "/v1/webhook/deliveries",
    operation_id="list_webhook_deliveries",
    auth="user_or_key",
    summary="Recent delivery attempts, newest first.",
    query=DeliveriesQuery,
    response=Page[DeliveryAttempt],
    description="Test keys see the attempts of test-mode events only.",
)
def get_deliveries(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(DeliveriesQuery))
    test_only = is_test_key(request)
    return Reply(list_deliveries(caller_user_id(request), params, test_only))


@router.add(
    "POST",
    "/v1/webhook/events/<event_id>/retry",
    operation_id="retry_webhook_event",
    auth="user_or_key",
    summary="Send one event again now.",
    body=EmptyBody,
    response=WebhookEventRetried,
    status=202,
    errors=(
        ErrorCode.RESOURCE_MISSING,
        ErrorCode.WEBHOOK_DISABLED,
        ErrorCode.ILLEGAL_STATE_TRANSITION,
        *CONCURRENT,
        ErrorCode.LIVEMODE_REQUIRED,
    ),
    description="One more attempt, whatever the event's state; same event id (webhook-id) as before. "
    + LIVE_ONLY,
)
def retry_webhook_event(request: ApiRequest) -> Reply:
    event_id = request.path_params["event_id"]
    return Reply(retry_event(require_user_or_live_key(request), event_id), status=202)


@router.add(
    "POST",
    "/v1/webhook/recover",
    operation_id="recover_webhook_events",
    auth="user_or_key",
    summary="Requeue every failed event since a time.",
    body=RecoverInput,
    response=WebhookRecovered,
    status=202,
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.WEBHOOK_DISABLED, ErrorCode.LIVEMODE_REQUIRED),
    description="Oldest first, each once; they drain through the endpoint's backlog. " + LIVE_ONLY,
)
def recover_webhook_events(request: ApiRequest) -> Reply:
    body = request.parse(RecoverInput)
    return Reply(recover(require_user_or_live_key(request), body), status=202)
