"""HTTP entry point of the `echo_worker` function: the built-in worker of `echo` jobs."""

from __future__ import annotations

import flask
import functions_framework

from functions.entry_guard import refuse_misconfigured
from shared.api.http import Reply, read_bounded, serve
from shared.core.errors import ApiError, ErrorCode


def _answer(request: flask.Request, request_id: str) -> Reply:
    if request.method != "POST":
        raise ApiError(ErrorCode.METHOD_NOT_ALLOWED, "Dispatches are POSTed.")
    from shared.workers.echo import MAX_DISPATCH_BYTES, handle_echo

    status, body = handle_echo(dict(request.headers), read_bounded(request, MAX_DISPATCH_BYTES))
    return Reply(body, status=status)


@functions_framework.http
def echo_worker(request: flask.Request) -> flask.Response:
    refused = refuse_misconfigured("echo_worker", calls_stripe=False)
    if refused is not None:
        return refused
    return serve(request, _answer)
