"""The platform's Stripe client: created lazily from settings (api key and api base), cached per process.

Locally and in tests the api base points at localstripe; in production it is Stripe's default. Stripe
objects are turned into plain dicts at this boundary so the rest of the code never depends on SDK types.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import stripe

from shared.core import logs
from shared.core.errors import ApiError, ErrorCode
from shared.core.settings import get_settings

T = TypeVar("T")
# Each try of a Stripe call waits at most this long (connect and read; the SDK's default is 80 s), and a
# failed try is retried once: the worst a call can take is STRIPE_CALL_WORST_S, its tries and the SDK's
# backoff between them. The API's purchase path starts a call only while that much of its budget remains
# (shared/billing/purchases.py), so a slow Stripe answers 502 within the function's timeout, not after it.
STRIPE_TRY_TIMEOUT_S = 10.0
STRIPE_NETWORK_RETRIES = 1
STRIPE_CALL_WORST_S = STRIPE_TRY_TIMEOUT_S * (STRIPE_NETWORK_RETRIES + 1) + 5.0 * STRIPE_NETWORK_RETRIES
_lock = threading.Lock()
_clients: dict[tuple[str, str | None], stripe.StripeClient] = {}
# Stripe unreachable (connection, 5xx, rate limit): one line per minute per instance, with the count.
STRIPE_UNREACHABLE = logs.FaultLog("stripe_unreachable")


def stripe_client() -> stripe.StripeClient:
    settings = get_settings()
    key = (settings.stripe_secret_key, settings.stripe_api_base)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                base_addresses: Any = (
                    {"api": settings.stripe_api_base} if settings.stripe_api_base is not None else None
                )
                client = stripe.StripeClient(
                    settings.stripe_secret_key,
                    base_addresses=base_addresses,
                    max_network_retries=STRIPE_NETWORK_RETRIES,
                    http_client=stripe.RequestsClient(timeout=STRIPE_TRY_TIMEOUT_S),
                )
                _clients[key] = client
    return client


def stripe_livemode() -> bool:
    """Whether this deployment talks to live Stripe: events must agree, or they change nothing."""
    return get_settings().stripe_secret_key.startswith(("sk_live_", "rk_live_"))


def as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


def call_stripe(action: Callable[[], T], *, not_found: ApiError | None = None) -> T:
    """Run one Stripe call; its failures become ApiErrors (never a bare 500 with a trace)."""
    try:
        return action()
    except stripe.InvalidRequestError as exc:
        if not_found is not None and (exc.http_status == 404 or exc.code == "resource_missing"):
            raise not_found from None
        # Stripe refused this request (4xx): retrying it unchanged would be refused again, so it is the
        # caller's 4xx, with Stripe's own code, never a 502.
        code = exc.code or ("resource_missing" if exc.http_status == 404 else "invalid_request")
        logs.warning("stripe rejected a request", stripe_code=code, http_status=exc.http_status)
        raise ApiError(
            ErrorCode.STRIPE_REJECTED,
            f"The payment provider refused the request ({code}).",
            stripe_code=code,
        ) from None
    except stripe.CardError as exc:
        raise ApiError(ErrorCode.CARD_DECLINED, exc.user_message or "The card was declined.") from None
    except stripe.StripeError as exc:
        STRIPE_UNREACHABLE.warning("stripe call failed", error=repr(exc), exception_type=type(exc).__name__)
        raise ApiError(
            ErrorCode.STRIPE_ERROR,
            "The payment provider is unavailable; try again.",
            headers={"Retry-After": "5"},
        ) from None
