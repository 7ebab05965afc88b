"""The built-in worker of `echo` jobs (HTTP function `echo_worker`), held to the same worker contract as any
operator's worker (docs/workers.md): it verifies the Standard Webhooks signature with the `echo` type's
secrets, and answers 200 `{"result": input}`, or 422 with an error when `input.fail` is true.

The function is public (run_job calls it like any worker URL), so what an anonymous caller can make it do
is bounded: a dispatch without well-formed signature headers, or with a timestamp outside the tolerance, is
refused before anything is read; the type's secrets are read at most every SECRETS_TTL_S per instance
(shared/core/ttl_cache.py: one load at a time, whatever the traffic), so a flood of badly signed dispatches
costs no Firestore read per request. A rotated secret needs no refresh: run_job signs with the new secret
and the retired ones together (shared/workers/job_types.signing_secrets) during their overlap.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.core.errors import ApiError, ErrorCode
from shared.core.ttl_cache import TtlCache
from shared.jobs.types import stored_job_type
from shared.models import utc_now
from shared.workers.job_types import signing_secrets

# The type this worker serves: seeded like any type (shared/workers/catalogue.py), its secret stored with it.
ECHO_JOB_TYPE = "echo"
FAIL_MESSAGE = "The job failed as requested (input.fail is true)."
MAX_DISPATCH_BYTES = 2 * 1024 * 1024
# Standard Webhooks' tolerance for the timestamp (the library's own): older or newer is refused unread.
TIMESTAMP_TOLERANCE_S = 5 * 60
SECRETS_TTL_S = 10.0
_SIGNATURE_BYTES = 32  # HMAC-SHA256

_secrets: TtlCache[str, tuple[str, ...]] = TtlCache(SECRETS_TTL_S, max_entries=1)


def well_formed(headers: Mapping[str, str], now_s: float) -> bool:
    """The signature headers are there and could verify: an id, a timestamp within the tolerance, and at
    least one `v1,<base64 of 32 bytes>` signature. Pure: decided before any read."""
    lowered = {key.lower(): value for key, value in headers.items()}
    message_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not message_id or len(message_id) > 256 or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(now_s - int(timestamp)) > TIMESTAMP_TOLERANCE_S:
        return False
    for signature in signatures.split(" ")[:8]:
        version, _, encoded = signature.partition(",")
        if version != "v1":
            continue
        try:
            if len(base64.b64decode(encoded, validate=True)) == _SIGNATURE_BYTES:
                return True
        except (binascii.Error, ValueError):
            continue
    return False


def _load_secrets(_previous: tuple[str, ...] | None) -> tuple[str, ...]:
    echo = stored_job_type(ECHO_JOB_TYPE, fresh=True)
    return tuple(signing_secrets(echo, utc_now())) if echo is not None else ()


def echo_secrets() -> tuple[str, ...]:
    """The echo type's signing secrets, read at most every SECRETS_TTL_S (none yet: nothing verifies)."""
    return _secrets.get(ECHO_JOB_TYPE, _load_secrets)


def _verified(secrets: tuple[str, ...], headers: Mapping[str, str], body: bytes) -> bool:
    for secret in secrets:
        try:
            Webhook(secret).verify(body, dict(headers), json_parse=False)
        except WebhookVerificationError:
            continue
        return True
    return False


def handle_echo(headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """(status, answer) for one dispatch."""
    if not well_formed(headers, time.time()) or not _verified(echo_secrets(), headers, body):
        raise ApiError(ErrorCode.INVALID_SIGNATURE, "The dispatch is not signed with the echo type's secret.")
    try:
        dispatch = json.loads(body)
    except ValueError:
        raise ApiError(ErrorCode.INVALID_JSON, "The dispatch is not JSON.") from None
    job_input = dispatch.get("input") if isinstance(dispatch, dict) else None
    if not isinstance(job_input, dict):
        raise ApiError(ErrorCode.PARAMETER_INVALID, "The dispatch has no input object.", param="input")
    if job_input.get("fail") is True:
        return 422, {"error": {"message": FAIL_MESSAGE}}
    return 200, {"result": job_input}
