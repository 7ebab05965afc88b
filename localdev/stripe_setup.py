"""Point localstripe's webhooks at the local `stripe_webhook` function (used by `make dev` and tests).

localstripe sends every event it emits to every registered webhook, signed like Stripe
(`Stripe-Signature: t=..,v1=..`) with the registered secret: see docs/stripe.md.
"""

from __future__ import annotations

import requests

DEFAULT_WEBHOOK_NAME = "platform"


def stripe_webhook_url(functions_base_url: str, project_id: str, region: str = "us-central1") -> str:
    return f"{functions_base_url.rstrip('/')}/{project_id}/{region}/stripe_webhook"


def register_localstripe_webhook(
    api_base: str,
    url: str,
    secret: str,
    *,
    name: str = DEFAULT_WEBHOOK_NAME,
    events: list[str] | None = None,
) -> None:
    """Register (or replace: same name) the webhook target. `events` None means every event type."""
    if not secret.startswith("whsec_"):
        raise ValueError("the webhook secret must start with whsec_")
    body: dict[str, object] = {"url": url, "secret": secret}
    if events is not None:
        body["events"] = list(events)
    response = requests.post(f"{api_base.rstrip('/')}/_config/webhooks/{name}", json=body, timeout=10)
    response.raise_for_status()
