"""The caller's webhook endpoint: settings, secret rotation, test event, delivery attempts."""

from __future__ import annotations

from shared.auth_gate import caller_user_id
from shared.errors import ApiError, not_found
from shared.http import ApiRequest, Reply, Router
from shared.principals import KeyPrincipal
from shared.webhook_delivery_log import list_deliveries, parse_limit
from shared.webhook_endpoints import (
    WebhookEndpointInput,
    delete_endpoint,
    get_endpoint,
    load_endpoint,
    put_endpoint,
    rotate_secret,
    webhook_id_for,
)
from shared.webhook_events import create_test_event

router = Router()


@router.add("GET", "/v1/webhook", auth="user_or_key", summary="The caller's webhook endpoint.")
def get_webhook(request: ApiRequest) -> Reply:
    return Reply(get_endpoint(caller_user_id(request)))


@router.add("PUT", "/v1/webhook", auth="user_or_key", summary="Create or replace the endpoint.")
def put_webhook(request: ApiRequest) -> Reply:
    body = request.parse(WebhookEndpointInput)
    resource, created = put_endpoint(caller_user_id(request), body)
    return Reply(resource, status=201 if created else 200)


@router.add("DELETE", "/v1/webhook", auth="user_or_key", summary="Remove the endpoint.")
def delete_webhook(request: ApiRequest) -> Reply:
    return Reply(delete_endpoint(caller_user_id(request)))


@router.add("POST", "/v1/webhook/rotate_secret", auth="user", summary="New secret; old one signs for 24 h.")
def rotate_webhook_secret(request: ApiRequest) -> Reply:
    return Reply(rotate_secret(caller_user_id(request)))


@router.add("POST", "/v1/webhook/test", auth="user_or_key", summary="Send a webhook.test event.")
def send_test_event(request: ApiRequest) -> Reply:
    user_id = caller_user_id(request)
    endpoint = load_endpoint(user_id)
    if endpoint is None:
        raise not_found("webhook endpoint")
    if not endpoint.enabled:
        raise ApiError(
            "webhook_disabled", "The webhook endpoint is disabled; enable it with PUT /v1/webhook."
        )
    # A test key's test event says livemode false, like its jobs' events; a signed-in user's says true.
    livemode = request.principal.livemode if isinstance(request.principal, KeyPrincipal) else True
    event_id = create_test_event(user_id, webhook_id_for(user_id), livemode)
    return Reply({"event_id": event_id, "type": "webhook.test", "status": "pending"}, status=202)


@router.add("GET", "/v1/webhook/deliveries", auth="user_or_key", summary="Recent delivery attempts.")
def get_deliveries(request: ApiRequest) -> Reply:
    limit = parse_limit(request.query("limit"))
    return Reply(list_deliveries(caller_user_id(request), limit, request.query("cursor")))
