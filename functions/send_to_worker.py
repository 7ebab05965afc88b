"""HTTP entry point of the `send_to_worker` function: one already-signed outbound request in (JSON, from
`run_job` only: IAM and internal ingress), the guarded POST made, its AttemptResult out as JSON
(shared/outbound/relay.py). It holds no secret: the signature was made by the caller."""

from __future__ import annotations

import flask
import functions_framework

from functions.entry_guard import refuse_misconfigured
from shared.api.http import Reply, decode_json, parse_model, read_bounded, serve
from shared.core.errors import ApiError, ErrorCode


def _send(request: flask.Request, request_id: str) -> Reply:
    if request.method != "POST":
        raise ApiError(ErrorCode.METHOD_NOT_ALLOWED, "Outbound requests are POSTed.")
    from shared.models import utc_now
    from shared.outbound.relay import MAX_RELAY_REQUEST_BYTES, RelayedPost, answer_of, send_relayed

    post = parse_model(RelayedPost, decode_json(read_bounded(request, MAX_RELAY_REQUEST_BYTES)))
    return Reply(answer_of(send_relayed(post, utc_now())))


@functions_framework.http
def send_to_worker(request: flask.Request) -> flask.Response:
    refused = refuse_misconfigured("send_to_worker", calls_stripe=False)
    if refused is not None:
        return refused
    return serve(request, _send)
