"""The `api` function's routes: one module per resource, each a thin parse -> shared service -> render."""

from __future__ import annotations

from shared.auth_gate import authenticate, before_request
from shared.http import HttpApp, Router


def all_routes() -> Router:
    from functions.routes import (
        account,
        admin,
        api_keys,
        health,
        jobs,
        ledger,
        payment_methods,
        purchases,
        webhooks,
    )

    router = Router()
    for module in (health, account, api_keys, jobs, ledger, webhooks, payment_methods, purchases, admin):
        router.include(module.router)
    return router


def build_app() -> HttpApp:
    return HttpApp(all_routes().routes, authenticator=authenticate, before=before_request)
