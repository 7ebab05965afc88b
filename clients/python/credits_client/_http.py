"""The transport under every call: retries that can never apply a request twice, and what each response
says about the caller's rate limit."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Methods that mean the same when repeated; a POST is retried only when it carries an Idempotency-Key.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answered before the request did anything: always safe to send again.
REFUSED_BEFORE_RUNNING = frozenset({429, 503})
MAX_RETRY_AFTER_S = 60.0

_POLICY = re.compile(r'^"(?P<name>[^"]*)";q=(?P<limit>\d+);w=(?P<window>\d+)$')
_REMAINING = re.compile(r'^"(?P<name>[^"]*)";r=(?P<remaining>\d+);t=(?P<reset>\d+)$')


@dataclass(frozen=True)
class RateLimit:
    """The caller's rate limit from `RateLimit-Policy` and `RateLimit` (IETF draft fields)."""

    name: str  # "key" (per API key) or "user" (per signed-in user)
    limit: int  # requests per window
    window_s: int
    remaining: int
    reset_s: int  # seconds until the limit is full again

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit | None:
        policy = _POLICY.match(headers.get("RateLimit-Policy", "").strip())
        remaining = _REMAINING.match(headers.get("RateLimit", "").strip())
        if policy is None or remaining is None:
            return None
        return cls(
            name=policy["name"],
            limit=int(policy["limit"]),
            window_s=int(policy["window"]),
            remaining=int(remaining["remaining"]),
            reset_s=int(remaining["reset"]),
        )


@dataclass(frozen=True)
class ResponseInfo:
    """What the last response of a call said besides its body."""

    status: int
    request_id: str | None
    rate_limit: RateLimit | None
    idempotent_replayed: bool  # it answers an earlier request with the same Idempotency-Key
    attempts: int  # 1 + the retries it took

    @classmethod
    def of(cls, response: httpx.Response) -> ResponseInfo:
        return cls(
            status=response.status_code,
            request_id=response.headers.get("Request-Id"),
            rate_limit=RateLimit.from_headers(response.headers),
            idempotent_replayed=response.headers.get("Idempotent-Replayed") == "true",
            attempts=int(response.extensions.get("credits_attempts", 1)),
        )


def retry_after_s(headers: httpx.Headers) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), capped; None when absent or unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER_S)


def replay_safe(request: httpx.Request) -> bool:
    """Sending it again cannot apply it twice: an idempotent method, or a POST with an Idempotency-Key."""
    return request.method in IDEMPOTENT_METHODS or IDEMPOTENCY_HEADER in request.headers


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def should_retry(request: httpx.Request, response: httpx.Response) -> bool:
    status = response.status_code
    if status in REFUSED_BEFORE_RUNNING:
        return True
    if status == 409:
        # The same key's first request is still in progress (the server says when to come back); the same
        # key with other parameters has no Retry-After and is the caller's mistake.
        return "Retry-After" in response.headers and _error_code(response) == "idempotency_key_in_use"
    return status >= 500 and replay_safe(request)


@dataclass
class RetryPolicy:
    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    # A Retry-After longer than this (maintenance asks for 60 s) is answered to the caller at once, as an
    # ApiError whose retry_after_s says when to come back, rather than waited out inside one call.
    max_wait_s: float = 20.0

    def backoff_s(self, retry: int) -> float:
        """Exponential with full jitter: retry 0 waits up to base, then 2x, 4x... up to max_delay_s."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**retry))


class RetryingTransport(httpx.BaseTransport):
    """Sends a request again after a network error, 429, 503, a 409 `idempotency_key_in_use` that says
    when to come back, or another 5xx, as long as sending it again cannot apply it twice. The request
    object is reused as it is, so its Idempotency-Key is the same on every attempt."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        retry = 0
        while True:
            try:
                response = self._inner.handle_request(request)
            except httpx.TransportError as exc:
                # A connection never made sent nothing; any other failure may have reached the server.
                if retry >= self._policy.max_retries or not (
                    isinstance(exc, httpx.ConnectError) or replay_safe(request)
                ):
                    raise
                delay = self._policy.backoff_s(retry)
            else:
                response.read()
                waited = retry_after_s(response.headers)
                if (
                    retry >= self._policy.max_retries
                    or not should_retry(request, response)
                    or (waited is not None and waited > self._policy.max_wait_s)
                ):
                    response.extensions = {**response.extensions, "credits_attempts": retry + 1}
                    return response
                response.close()
                delay = waited if waited is not None else self._policy.backoff_s(retry)
            self._sleep(delay)
            retry += 1

    def close(self) -> None:
        self._inner.close()


class LastResponses:
    """The last response each thread received through one client."""

    def __init__(self) -> None:
        self._local = threading.local()

    def record(self, response: httpx.Response) -> None:
        self._local.info = ResponseInfo.of(response)

    @property
    def last(self) -> ResponseInfo | None:
        info: ResponseInfo | None = getattr(self._local, "info", None)
        return info
