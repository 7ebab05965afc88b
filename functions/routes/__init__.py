"""The `api` function's routes: one module per resource, each a thin parse -> shared service -> render."""

from __future__ import annotations

from functools import cache
from typing import Any

from shared.api.auth_gate import authenticate, before_request
from shared.api.http import HttpApp, Router

API_TITLE = "Credits platform API"
API_VERSION = "1.0.0"


def all_routes() -> Router:
    from functions.routes import (
        account,
        admin,
        api_keys,
        auto_top_up,
        health,
        job_types,
        jobs,
        ledger,
        openapi,
        payment_methods,
        purchases,
        usage,
        webhooks,
    )

    router = Router()
    modules = (
        health,
        openapi,
        account,
        api_keys,
        jobs,
        job_types,
        ledger,
        auto_top_up,
        webhooks,
        payment_methods,
        purchases,
        usage,
        admin,
    )
    for module in modules:
        router.include(module.router)
    return router


def build_app() -> HttpApp:
    return HttpApp(all_routes().routes, authenticator=authenticate, before=before_request)


@cache
def openapi_document() -> dict[str, Any]:
    """Built once per instance from the same declarations the app routes and validates with."""
    from shared.api.openapi import build_openapi

    return build_openapi(all_routes().routes, title=API_TITLE, version=API_VERSION)
