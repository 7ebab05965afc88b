"""Verifying the platform's webhooks (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
`webhook-signature`): the signature with the `standardwebhooks` package, the timestamp within a tolerance."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from credits_client.generated.models import Job

__all__ = ["DEFAULT_TOLERANCE_S", "WebhookEvent", "WebhookVerificationError", "Webhooks"]

DEFAULT_TOLERANCE_S = 300.0


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
    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes | str,
        secret: str,
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        now: datetime | None = None,
    ) -> WebhookEvent:
        """The event, once its signature (by `secret`, the endpoint's `whsec_...`) and timestamp (within
        `tolerance_s` of now, either way) check out; WebhookVerificationError otherwise. Pass the body exactly
        as received. The signature is the standardwebhooks package's; the tolerance is checked here."""
        found = {name.lower(): value for name, value in headers.items()}
        message_id, stamp = found.get("webhook-id"), found.get("webhook-timestamp", "").strip()
        signatures = found.get("webhook-signature")
        if not (message_id and stamp and signatures):
            raise WebhookVerificationError("Missing required headers")
        if not stamp.isdigit():
            raise WebhookVerificationError("Invalid Signature Headers")
        timestamp = datetime.fromtimestamp(int(stamp), UTC)
        drift = ((now or datetime.now(UTC)) - timestamp).total_seconds()
        if drift > tolerance_s:
            raise WebhookVerificationError("Message timestamp too old")
        if -drift > tolerance_s:
            raise WebhookVerificationError("Message timestamp too new")
        expected = Webhook(secret).sign(message_id, timestamp, body).encode()
        if not any(hmac.compare_digest(expected, passed.encode()) for passed in signatures.split(" ")):
            raise WebhookVerificationError("No matching signature found")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise WebhookVerificationError("The payload is not JSON.") from exc
        if not isinstance(payload, dict):
            raise WebhookVerificationError("The payload is not a JSON object.")
        return WebhookEvent(
            id=str(payload.get("id", "")),
            type=str(payload.get("type", "")),
            created=int(payload.get("created", 0)),
            livemode=bool(payload.get("livemode", False)),
            data=dict(payload.get("data") or {}),
        )
