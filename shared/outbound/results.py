"""What one outbound POST produced, and the Retry-After rules every sender follows (webhooks and job
dispatch alike): a 429 or 503 may ask for a delay, given as delta-seconds or an HTTP date, capped at 24 h."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt produced (status None: no HTTP answer, then `error` says why)."""

    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: timedelta | None = None  # honoured on 429/503 (webhooks)
    body: bytes = b""  # the answer, read up to the send policy's response_bytes
    retry_after_header: str | None = None  # as the server sent it


def honours_retry_after(status_code: int | None) -> bool:
    return status_code in (429, 503)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unparseable; capped at 24 h."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # More digits than any sane delay: past the cap (and int() of thousands of digits is refused).
        delay = timedelta(seconds=int(text)) if len(text) <= 10 else MAX_RETRY_AFTER
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # asctime has no zone, but every HTTP date is GMT
            when = when.replace(tzinfo=UTC)
        delay = max(when - now, timedelta(0))
    return min(delay, MAX_RETRY_AFTER)
