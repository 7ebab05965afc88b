"""Verifying the platform's webhooks (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
`webhook-signature`), with the `standardwebhooks` package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from credits_client.generated.models import Job

__all__ = ["WebhookEvent", "WebhookVerificationError", "Webhooks"]


@dataclass(frozen=True)
class WebhookEvent:
    """A verified event: `{"id", "type", "created", "livemode", "data": {"object": ...}}`."""

    id: str
    type: str  # job.completed, job.failed, webhook.test...
    created: int  # Unix seconds
    livemode: bool
    data: dict[str, Any]

    @property
    def object(self) -> dict[str, Any]:
        found = self.data.get("object")
        return found if isinstance(found, dict) else {}

    @property
    def job(self) -> Job | None:
        """The job of a `job.*` event, as the same model `client.jobs.get` answers."""
        return Job.from_dict(self.object) if self.type.startswith("job.") else None


class Webhooks:
    def verify(self, headers: Mapping[str, str], body: bytes | str, secret: str) -> WebhookEvent:
        """The event, once its signature (by `secret`, the endpoint's `whsec_...`) and timestamp (within
        5 minutes) check out; WebhookVerificationError otherwise. Pass the body exactly as received."""
        webhook = Webhook(secret)
        lowered = {name.lower(): value for name, value in headers.items()}
        payload = webhook.verify(body, lowered)
        if not isinstance(payload, dict):
            raise WebhookVerificationError("The payload is not a JSON object.")
        return WebhookEvent(
            id=str(payload.get("id", "")),
            type=str(payload.get("type", "")),
            created=int(payload.get("created", 0)),
            livemode=bool(payload.get("livemode", False)),
            data=dict(payload.get("data") or {}),
        )
