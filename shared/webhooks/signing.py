"""Standard Webhooks signing and verification (https://www.standardwebhooks.com).

Signature: ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` where the
key is the base64-decoded secret after ``whsec_``. Several space-separated
signatures are sent while a secret is being rotated.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from secrets import token_bytes

SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
DEFAULT_TOLERANCE_S = 300
_MAX_TIMESTAMP_DIGITS = 12  # keeps int() cheap on hostile input


class WebhookVerificationError(Exception):
    """The request must be rejected; the message says why (safe to log)."""


def generate_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(token_bytes(32)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    """Decode a secret, with or without prefix; tolerate missing padding like the spec libs."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = _digest(_secret_key(secret), msg_id, timestamp, body)
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per secret, so receivers on either old or new secret accept."""
    if not secrets:
        raise ValueError("at least one secret is required")
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets)


def build_headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def _parse_timestamp(value: str) -> int:
    # Strict ASCII digits: int() would also accept "+1", " 1", "1_0" and non-ASCII digits.
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
        raise WebhookVerificationError("invalid webhook-timestamp header")
    return int(value)


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Raise WebhookVerificationError unless the message is authentic and fresh."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    timestamp_header = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not timestamp_header or not signatures:
        raise WebhookVerificationError("missing required webhook headers")

    timestamp = _parse_timestamp(timestamp_header)
    current = time.time() if now is None else now
    # The timestamp window bounds how long a captured request can be replayed.
    if timestamp < current - tolerance_s:
        raise WebhookVerificationError("message timestamp too old")
    if timestamp > current + tolerance_s:
        raise WebhookVerificationError("message timestamp too new")

    expected = _digest(_secret_key(secret), msg_id, timestamp, body)
    matched = False
    for entry in signatures.split(" "):
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue  # unknown versions (e.g. v1a) are ignored, per the spec
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        # Check every entry so timing does not reveal which one matched.
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookVerificationError("no matching signature found")
