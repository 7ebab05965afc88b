"""HTTP entry point of the `api` function."""

from __future__ import annotations

from functools import cache

import flask
import functions_framework

from functions.entry_guard import refuse_misconfigured
from shared.api.http import HttpApp


@cache
def _app() -> HttpApp:
    from functions.routes import build_app

    return build_app()


@functions_framework.http
def api(request: flask.Request) -> flask.Response:
    refused = refuse_misconfigured("api", calls_stripe=True)
    if refused is not None:
        return refused
    return _app().handle(request)
