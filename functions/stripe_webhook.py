"""HTTP entry point of the `stripe_webhook` function."""

from __future__ import annotations

import flask
import functions_framework

from shared.errors import ApiError
from shared.http import error_response, new_request_id


@functions_framework.http
def stripe_webhook(request: flask.Request) -> flask.Response:
    return error_response(
        ApiError("service_unavailable", "Stripe ingestion is not available yet."), new_request_id()
    )
