"""HTTP entry point of the `api` function."""

from __future__ import annotations

from functools import cache

import flask
import functions_framework

from shared.api.http import HttpApp


@cache
def _app() -> HttpApp:
    from functions.routes import build_app

    return build_app()


@functions_framework.http
def api(request: flask.Request) -> flask.Response:
    return _app().handle(request)
