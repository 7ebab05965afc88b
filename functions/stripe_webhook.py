"""HTTP entry point of the `stripe_webhook` function: raw body and signature in, one handler, JSON out,
through the same HTTP path as `api` (request id, JSON errors, request log)."""

from __future__ import annotations

import flask
import functions_framework

from functions.entry_guard import refuse_misconfigured
from shared.api.http import Reply, read_bounded, serve
from shared.core.errors import ApiError, ErrorCode


def _receive(request: flask.Request, request_id: str) -> Reply:
    if request.method != "POST":
        raise ApiError(ErrorCode.METHOD_NOT_ALLOWED, "Stripe events are POSTed.")
    from shared.billing.ingest import MAX_EVENT_BYTES, handle_stripe_webhook

    payload = read_bounded(request, MAX_EVENT_BYTES)  # never more than the limit + 1 bytes in memory
    # A 5xx makes Stripe retry the event later; nothing is half-applied (effects are batched with markers).
    return Reply(handle_stripe_webhook(payload, request.headers.get("Stripe-Signature")))


@functions_framework.http
def stripe_webhook(request: flask.Request) -> flask.Response:
    refused = refuse_misconfigured("stripe_webhook", calls_stripe=True)
    if refused is not None:
        return refused
    return serve(request, _receive)
