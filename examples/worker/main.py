"""A metered worker for the credits platform (docs/workers.md): counts the words of `input.text`.

Deployed as an HTTP function (functions-framework, target `worker`). Every dispatch is verified with the
job type's `worker_secret` (Standard Webhooks) before anything else; the answer carries the result and the
usage the platform charges by (`units`: words counted).
"""

from __future__ import annotations

import json
import os
from typing import Any

import flask
import functions_framework
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_TEXT_CHARS = 1_000_000


def _json(body: dict[str, Any], status: int) -> flask.Response:
    return flask.Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, message: str) -> flask.Response:
    return _json({"error": {"message": message}}, status)


def count_words(job_input: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """(result, units) for one job's input; ValueError when the input is unusable."""
    text = job_input.get("text")
    if not isinstance(text, str):
        raise ValueError("input.text must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"input.text is longer than {MAX_TEXT_CHARS} characters")
    words = len(text.split())
    return {"words": words}, words


@functions_framework.http
def worker(request: flask.Request) -> flask.Response:
    body = request.get_data()
    try:
        dispatch = Webhook(os.environ["WORKER_SECRET"]).verify(body, dict(request.headers))
    except WebhookVerificationError:
        return _error(401, "invalid signature")  # 4xx: the job fails at once, refunded
    job_input = dispatch.get("input") if isinstance(dispatch, dict) else None
    try:
        result, units = count_words(job_input if isinstance(job_input, dict) else {})
    except ValueError as exc:
        return _error(422, str(exc))
    # The same job may come again (a retry after a timeout): counting words is idempotent by nature.
    return _json({"result": result, "usage": {"units": units}}, 200)
