"""The one Idempotency-Key helper: the header, its validation and the replay header, for every route that
honours it (jobs, purchases). Each domain derives its own document id from the key (idempotency by
construction: the same key names the same document)."""

from __future__ import annotations

from shared.core.errors import ApiError, ErrorCode

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def idempotency_key_from(raw: str | None) -> str | None:
    """The key without surrounding white space; None when the header is absent; 400 when unusable."""
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            ErrorCode.PARAMETER_INVALID,
            f"The {IDEMPOTENCY_HEADER} header must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters.",
            param=IDEMPOTENCY_HEADER,
        )
    return key


def required_idempotency_key(raw: str | None) -> str:
    """For routes that refuse to act without a key (a repeat must never apply twice): 400 when absent."""
    key = idempotency_key_from(raw)
    if key is None:
        raise ApiError(
            ErrorCode.PARAMETER_MISSING,
            f"The {IDEMPOTENCY_HEADER} header is required: one key per change you mean to make.",
            param=IDEMPOTENCY_HEADER,
        )
    return key


def replay_headers(replayed: bool) -> dict[str, str]:
    """`Idempotent-Replayed: true` on an answer given again for an earlier request with the same key."""
    return {REPLAYED_HEADER: "true"} if replayed else {}
