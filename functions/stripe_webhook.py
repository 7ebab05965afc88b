"""HTTP entry point of the `stripe_webhook` function: raw body and signature in, one handler, JSON out."""

from __future__ import annotations

import flask
import functions_framework

from functions.entry_guard import refuse_misconfigured
from shared.api.http import error_response, json_response, new_request_id, read_bounded
from shared.core import logs
from shared.core.errors import ApiError, ErrorCode


@functions_framework.http
def stripe_webhook(request: flask.Request) -> flask.Response:
    from shared.billing.ingest import MAX_EVENT_BYTES, handle_stripe_webhook

    refused = refuse_misconfigured("stripe_webhook", calls_stripe=True)
    if refused is not None:
        return refused
    request_id = new_request_id()
    if request.method != "POST":
        return error_response(ApiError(ErrorCode.METHOD_NOT_ALLOWED, "Stripe events are POSTed."), request_id)
    try:
        payload = read_bounded(request, MAX_EVENT_BYTES)  # never more than the limit + 1 bytes in memory
        body = handle_stripe_webhook(payload, request.headers.get("Stripe-Signature"))
        return json_response(body, 200, request_id)
    except ApiError as exc:
        if exc.status >= 500:
            logs.error("stripe event failed", code=exc.code, request_id=request_id)
        return error_response(exc, request_id)
    except Exception as exc:
        # 5xx: Stripe retries the event later; nothing was half-applied (effects are batched with markers).
        logs.exception("stripe event failed", exc, request_id=request_id)
        return error_response(
            ApiError(ErrorCode.INTERNAL_ERROR, "The event could not be applied."), request_id
        )
