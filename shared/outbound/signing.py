"""Standard Webhooks signing (https://www.standardwebhooks.com); receivers (and the tests) verify with the
`standardwebhooks` package.

Signature: ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` where the
key is the base64-decoded secret after ``whsec_``. Several space-separated
signatures are sent while a secret is being rotated.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from secrets import token_bytes

from shared.models import RetiredSecret

SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
# After a rotation the replaced secret keeps signing this long, beside the new one.
ROTATION_OVERLAP = timedelta(hours=24)


def generate_signing_secret() -> str:
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


def rotated(current: str, retired: Iterable[RetiredSecret], now: datetime) -> list[RetiredSecret]:
    """The retired list after replacing `current`: it first, expiring after ROTATION_OVERLAP, then every
    older secret whose overlap still lasts."""
    return [
        RetiredSecret(secret=current, expires_at=now + ROTATION_OVERLAP),
        *(r for r in retired if r.expires_at > now),
    ]


def signing_secrets(current: str, retired: Iterable[RetiredSecret], now: datetime) -> list[str]:
    """The current secret and every retired one still within its overlap: a receiver on either verifies."""
    return [current, *(r.secret for r in retired if r.expires_at > now)]
