"""The caller's one webhook endpoint (`webhooks/{webhookId}`): settings, secret and its rotation.

The document id is derived from the user id (`webhook_id_for`), so "one endpoint per user" holds by
construction: two concurrent first PUTs race on create() and the loser updates instead.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from google.api_core.exceptions import AlreadyExists
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.models import RetiredSecret, WebhookEndpoint, WebhookEventType, utc_now
from shared.outbound.signing import ROTATION_OVERLAP, generate_signing_secret, signing_secrets
from shared.outbound.targets import check_url

SUBSCRIBABLE_EVENTS: frozenset[WebhookEventType] = frozenset(
    {
        WebhookEventType.JOB_COMPLETED,
        WebhookEventType.JOB_FAILED,
        WebhookEventType.JOB_CANCELED,
        WebhookEventType.AUTO_TOP_UP_SUCCEEDED,
        WebhookEventType.AUTO_TOP_UP_FAILED,
        WebhookEventType.CREDITS_LOW,
        WebhookEventType.CREDIT_GRANT_EXPIRING,
    }
)
_WRITE_RETRIES = 5
# What PUT may change; the rest (secret, health, timestamps of deliveries) belongs to other writers.
_PUT_FIELDS = frozenset(
    {
        "url",
        "events",
        "enabled",
        "rate_limit",
        "updated_at",
        "failing_since",
        "disabled_reason",
        "consecutive_failures",
        "probe_at",
        "slow",
    }
)


class WebhookEndpointInput(BaseModel):
    """PUT /v1/webhook: the whole endpoint (create or replace)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    events: list[
        Literal[
            "job.completed",
            "job.failed",
            "job.canceled",
            "auto_top_up.succeeded",
            "auto_top_up.failed",
            "credits.low",
            "credit_grant.expiring",
        ]
    ] = Field(min_length=1, max_length=10)
    enabled: bool = True
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=100,
        strict=True,
        description="At most this many deliveries per second to this endpoint; absent or null: no throttle.",
    )

    @field_validator("events")
    @classmethod
    def _unique(cls, events: list[str]) -> list[str]:
        return list(dict.fromkeys(events))


def webhook_id_for(user_id: str) -> str:
    return "wh_" + hashlib.sha256(user_id.encode()).hexdigest()[:24]


def endpoint_ref(user_id: str) -> Any:
    return firestore_client().collection(WebhookEndpoint.collection).document(webhook_id_for(user_id))


def load_endpoint(user_id: str) -> WebhookEndpoint | None:
    snapshot = endpoint_ref(user_id).get()
    if not snapshot.exists:
        return None
    return WebhookEndpoint.from_firestore(snapshot.to_dict())


MAX_RETIRED_SECRETS = 10


def retired_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[RetiredSecret]:
    """Every replaced secret whose 24 h overlap lasts, newest first."""
    retired = []
    if endpoint.previous_secret and endpoint.previous_secret_expires_at is not None:
        retired.append(
            RetiredSecret(secret=endpoint.previous_secret, expires_at=endpoint.previous_secret_expires_at)
        )
    retired.extend(endpoint.older_secrets)
    return [r for r in retired if r.expires_at > now]


def endpoint_signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, plus every replaced one while its overlap lasts."""
    return signing_secrets(endpoint.secret, retired_secrets(endpoint, now), now)


def endpoint_resource(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    """The API shape. The secret appears only when just created (creation, rotation)."""
    body: dict[str, Any] = {
        "webhook_id": webhook_id_for(endpoint.user_id),
        "url": endpoint.url,
        "events": [e.value for e in endpoint.events],
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "last_triggered_at": endpoint.last_triggered_at,
        "last_status_code": endpoint.last_status_code,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        "rate_limit": endpoint.rate_limit,
    }
    if secret is not None:
        body["secret"] = secret
    return body


def put_endpoint(user_id: str, body: WebhookEndpointInput) -> tuple[dict[str, Any], bool]:
    """Create or replace the caller's endpoint; returns (resource, created)."""
    check_url(body.url)
    ref = endpoint_ref(user_id)
    db = firestore_client()
    events = [WebhookEventType(e) for e in body.events]

    def attempt() -> tuple[dict[str, Any], bool]:
        snapshot = ref.get()
        now = utc_now()
        if not snapshot.exists:
            secret = generate_signing_secret()
            endpoint = WebhookEndpoint(
                user_id=user_id,
                url=body.url,
                events=events,
                enabled=body.enabled,
                rate_limit=body.rate_limit,
                secret=secret,
                created_at=now,
                updated_at=now,
            )
            ref.create(endpoint.to_firestore())  # AlreadyExists: created meanwhile, read again
            return endpoint_resource(endpoint, secret=secret), True
        current = WebhookEndpoint.from_firestore(snapshot.to_dict())
        updated = current.model_copy(
            update={
                "url": body.url,
                "events": events,
                "enabled": body.enabled,
                "rate_limit": body.rate_limit,
                "updated_at": now,
            }
        )
        # Re-enabling, or pointing at a new URL, starts the failure clock and the health afresh.
        if body.enabled and (not current.enabled or body.url != current.url):
            updated = updated.model_copy(
                update={
                    "failing_since": None,
                    "disabled_reason": None,
                    "consecutive_failures": 0,
                    "probe_at": None,
                    "slow": False,
                }
            )
        fields = {k: v for k, v in updated.to_firestore().items() if k in _PUT_FIELDS}
        ref.update(fields, option=db.write_option(last_update_time=snapshot.update_time))
        return endpoint_resource(updated), False

    return retry_commit(
        attempt,
        what=f"webhook endpoint of {user_id}",
        max_attempts=_WRITE_RETRIES,
        retry_on=(*RETRYABLE_COMMIT_ERRORS, AlreadyExists),
        gave_up=_changing_concurrently,
    )


def delete_endpoint(user_id: str) -> dict[str, Any]:
    ref = endpoint_ref(user_id)
    snapshot = ref.get()
    if not snapshot.exists:
        raise not_found("webhook endpoint")
    ref.delete()
    return {"webhook_id": webhook_id_for(user_id), "deleted": True}


def rotate_secret(user_id: str) -> dict[str, Any]:
    """New secret, shown once; the one it replaces keeps signing for 24 h."""
    ref = endpoint_ref(user_id)
    db = firestore_client()

    def attempt() -> dict[str, Any]:
        snapshot = ref.get()
        if not snapshot.exists:
            raise not_found("webhook endpoint")
        current = WebhookEndpoint.from_firestore(snapshot.to_dict())
        now = utc_now()
        secret = generate_signing_secret()
        # Bounded: a burst of rotations keeps the newest few replaced secrets signing.
        older = retired_secrets(current, now)[: MAX_RETIRED_SECRETS - 1]
        updated = current.model_copy(
            update={
                "secret": secret,
                "previous_secret": current.secret,
                "previous_secret_expires_at": now + ROTATION_OVERLAP,
                "older_secrets": older,
                "updated_at": now,
            }
        )
        fields = {
            "secret": secret,
            "previous_secret": current.secret,
            "previous_secret_expires_at": updated.previous_secret_expires_at,
            "older_secrets": [r.to_firestore() for r in older],
            "updated_at": now,
        }
        ref.update(fields, option=db.write_option(last_update_time=snapshot.update_time))
        return endpoint_resource(updated, secret=secret)

    return retry_commit(
        attempt,
        what=f"webhook secret of {user_id}",
        max_attempts=_WRITE_RETRIES,
        gave_up=_changing_concurrently,
    )


def _changing_concurrently() -> ApiError:
    return ApiError(
        ErrorCode.SERVICE_UNAVAILABLE, "The webhook endpoint is being changed concurrently; retry."
    )
