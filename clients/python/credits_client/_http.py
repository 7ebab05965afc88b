"""The transport under every call: retries that can never apply a request twice, and what each response
says about the caller's rate limit."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import MappingProxyType

import httpx

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Methods that mean the same when repeated; a POST is retried only when it carries an Idempotency-Key.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answered before the request did anything: always safe to send again.
REFUSED_BEFORE_RUNNING = frozenset({429, 503})
MAX_RETRY_AFTER_S = 60.0
ATTEMPTS = "credits_attempts"  # the response extension that says how many tries it took

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
            attempts=int(response.extensions.get(ATTEMPTS, 1)),
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
    """Only what sending again cannot apply twice (an idempotent method, or a POST with its key), and only
    answers that say the request did not run or may be tried again."""
    if not replay_safe(request):
        return False
    status = response.status_code
    if status in REFUSED_BEFORE_RUNNING:
        return True
    if status == 409:
        # The same key's first request is still in progress (the server says when to come back); the same
        # key with other parameters has no Retry-After and is the caller's mistake.
        return "Retry-After" in response.headers and _error_code(response) == "idempotency_key_in_use"
    return status >= 500


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

    def after_error(self, request: httpx.Request, retry: int) -> float | None:
        """The wait before sending again after a network error (a timeout included), or None: give up."""
        return self.backoff_s(retry) if retry < self.max_retries and replay_safe(request) else None

    def after_answer(self, request: httpx.Request, response: httpx.Response, retry: int) -> float | None:
        """The wait before sending again after this (read) answer, or None: it is the call's answer."""
        waited = retry_after_s(response.headers)
        if (
            retry >= self.max_retries
            or not should_retry(request, response)
            or (waited is not None and waited > self.max_wait_s)
        ):
            return None
        return waited if waited is not None else self.backoff_s(retry)


def _answered(response: httpx.Response, retry: int) -> httpx.Response:
    response.extensions = {**response.extensions, ATTEMPTS: retry + 1}
    return response


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
            except httpx.TransportError:
                delay = self._policy.after_error(request, retry)
                if delay is None:
                    raise
            else:
                response.read()
                delay = self._policy.after_answer(request, response, retry)
                if delay is None:
                    return _answered(response, retry)
                response.close()
            self._sleep(delay)
            retry += 1

    def close(self) -> None:
        self._inner.close()


class AsyncRetryingTransport(httpx.AsyncBaseTransport):
    """RetryingTransport's rules for the AsyncClient; a cancelled task stops at once (never retried)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        retry = 0
        while True:
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.TransportError:
                delay = self._policy.after_error(request, retry)
                if delay is None:
                    raise
            else:
                await response.aread()
                delay = self._policy.after_answer(request, response, retry)
                if delay is None:
                    return _answered(response, retry)
                await response.aclose()
            await self._sleep(delay)
            retry += 1

    async def aclose(self) -> None:
        await self._inner.aclose()


_NONE_YET: Mapping[int, ResponseInfo] = MappingProxyType({})


class LastResponses:
    """The last response each thread, or each asyncio task, received through one client (a context
    variable: concurrent calls never read each other's)."""

    def __init__(self) -> None:
        self._key = object()

    def record(self, response: httpx.Response) -> None:
        _LAST.set({**_LAST.get(), id(self._key): ResponseInfo.of(response)})

    async def arecord(self, response: httpx.Response) -> None:
        self.record(response)

    @property
    def last(self) -> ResponseInfo | None:
        return _LAST.get().get(id(self._key))


_LAST: ContextVar[Mapping[int, ResponseInfo]] = ContextVar("credits_client_last_responses", default=_NONE_YET)
