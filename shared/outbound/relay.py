"""One outbound POST made by the function `send_to_worker` on behalf of `run_job`, which holds the Redis
secrets of job flow control and so never connects to an operator's URL itself.

`run_job` signs the request (the type's secret stays with it), then hands the sender the request as it must
go out (`RelayedPost`: the URL, the body, the headers, the send policy) and gets back what the attempt
produced (`RelayedAnswer`: an AttemptResult as JSON). The sender performs it with the guarded sender
(shared/outbound/sender.py: SSRF guard, pinned address, no redirects, one deadline, bounded answer) and
holds no secret, no Redis, no Firestore role: what a hostile worker could ever make it reveal is nothing.

`relayed_post` is the caller's half: a POST to the sender's URL (with a Google ID token for that audience
in production), bounded by the attempt's timeout plus RELAY_MARGIN_S. A failure of the hop itself (the
sender unreachable, its 5xx, its answer unreadable) is an AttemptResult error like any transport error of
the attempt: it never raises.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.core import logs
from shared.core.settings import get_settings
from shared.core.ttl_cache import TtlCache
from shared.outbound.results import AttemptResult
from shared.outbound.sender import SendPolicy, guarded_post

# A dispatch carries a job's input (at most 64 KiB of JSON) and its signed headers: far below this.
MAX_RELAYED_BODY_BYTES = 1024 * 1024
# The sender's request as JSON: the body in base64 (4/3 of it) and the rest.
MAX_RELAY_REQUEST_BYTES = MAX_RELAYED_BODY_BYTES * 4 // 3 + 64 * 1024
MAX_RELAYED_RESPONSE_BYTES = 1024 * 1024
MAX_RELAYED_HEADERS = 32
MAX_URL_CHARS = 2048
# The sender's own function timeout (shared/core/function_registry.py) bounds the attempts it can make.
SENDER_TIMEOUT_S = 540
MAX_RELAYED_TIMEOUT_S = SENDER_TIMEOUT_S - 20
# The caller waits the attempt's timeout plus this: the hop's own connect, cold start and answer.
RELAY_MARGIN_S = 15.0
RELAY_CONNECT_TIMEOUT_S = 10.0
# Google ID tokens live an hour; one is fetched per audience and instance, and renewed well before then.
ID_TOKEN_TTL_S = 45 * 60

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
# Framing and routing are the sender's own (http.client writes them): a relayed one would duplicate them.
_SENDER_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "te", "upgrade"})


class RelayedPost(BaseModel):
    """The sender's input: one already-signed request and how to send it (SendPolicy's fields)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS)]
    body: str  # base64
    headers: Annotated[
        dict[str, Annotated[str, Field(max_length=8192)]], Field(max_length=MAX_RELAYED_HEADERS)
    ]
    timeout_s: Annotated[float, Field(gt=0, le=MAX_RELAYED_TIMEOUT_S)]
    allow_loopback: bool
    require_https: bool
    response_bytes: Annotated[int, Field(ge=0, le=MAX_RELAYED_RESPONSE_BYTES)]

    @field_validator("body")
    @classmethod
    def _base64_within_limit(cls, value: str) -> str:
        limit = ValueError(f"the body is limited to {MAX_RELAYED_BODY_BYTES} bytes")
        if len(value) > (MAX_RELAYED_BODY_BYTES + 2) // 3 * 4:
            raise limit  # refused before it is decoded
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the body must be base64") from None
        if len(decoded) > MAX_RELAYED_BODY_BYTES:
            raise limit
        return value

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name[:64]!r} is not a header name")
            if name.lower() in _SENDER_HEADERS:
                raise ValueError(f"{name} is set by the sender")
            if any(ch in text for ch in "\r\n\0"):
                raise ValueError(f"the value of {name} holds a line break or NUL")
        return value

    def body_bytes(self) -> bytes:
        return base64.b64decode(self.body, validate=True)

    def policy(self) -> SendPolicy:
        return SendPolicy(
            timeout_s=self.timeout_s,
            allow_loopback=self.allow_loopback,
            require_https=self.require_https,
            response_bytes=self.response_bytes,
        )


class RelayedAnswer(BaseModel):
    """The sender's answer: the AttemptResult of the POST (the body base64, bounded by response_bytes).
    Read tolerantly (a newer sender may add fields), written strictly by `answer_of`."""

    model_config = ConfigDict(extra="ignore")

    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after_s: float | None = None
    body: str = ""
    retry_after_header: str | None = None

    def result(self) -> AttemptResult:
        return AttemptResult(
            status_code=self.status_code,
            error=self.error,
            duration_ms=self.duration_ms,
            retry_after=timedelta(seconds=self.retry_after_s) if self.retry_after_s is not None else None,
            body=base64.b64decode(self.body, validate=True),
            retry_after_header=self.retry_after_header,
        )


def relayed_request(url: str, body: bytes, headers: Mapping[str, str], policy: SendPolicy) -> dict[str, Any]:
    return RelayedPost(
        url=url,
        body=base64.b64encode(body).decode("ascii"),
        headers=dict(headers),
        timeout_s=float(policy.timeout_s),
        allow_loopback=policy.allow_loopback,
        require_https=policy.require_https,
        response_bytes=min(policy.response_bytes, MAX_RELAYED_RESPONSE_BYTES),
    ).model_dump(mode="json")


def answer_of(result: AttemptResult) -> dict[str, Any]:
    return RelayedAnswer(
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        retry_after_s=result.retry_after.total_seconds() if result.retry_after is not None else None,
        body=base64.b64encode(result.body).decode("ascii"),
        retry_after_header=result.retry_after_header,
    ).model_dump(mode="json")


def send_relayed(post: RelayedPost, now: datetime) -> AttemptResult:
    """The sender's work: the one guarded POST the request describes, never under a looser policy than the
    sender's own settings allow (loopback only where local development allows it, HTTPS in production),
    whatever the caller asked."""
    settings = get_settings()
    policy = replace(
        post.policy(),
        allow_loopback=post.allow_loopback and settings.allow_loopback_webhooks,
        require_https=post.require_https or settings.is_production,
    )
    return guarded_post(post.url, post.body_bytes(), post.headers, policy, now)


# ---------------------------------------------------------------------------------------------------
# The caller's half

TokenSource = Callable[[str], str | None]

_id_tokens: TtlCache[str, str] = TtlCache(ID_TOKEN_TTL_S, max_entries=8)
_session_lock = threading.Lock()
_sessions: dict[str, Any] = {}


def google_id_token(audience: str) -> str:
    """A Google ID token of this instance's identity for `audience` (the sender's URL), from the metadata
    server; kept per instance and renewed before it expires."""

    def fetch(_previous: str | None) -> str:
        import google.auth.transport.requests
        import google.oauth2.id_token

        token: str = google.oauth2.id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)
        return token

    return _id_tokens.get(audience, fetch)


def _session() -> Any:
    """One HTTP session per process (its connection pool reused by every thread of the pump)."""
    with _session_lock:
        session = _sessions.get("sender")
        if session is None:
            import requests
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=256)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions["sender"] = session
        return session


def relayed_post(
    sender_url: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: SendPolicy,
    id_token: TokenSource = lambda _audience: None,
    margin_s: float = RELAY_MARGIN_S,
) -> AttemptResult:
    """POST `url` through the sender at `sender_url`; never raises: a failure of the hop is an
    AttemptResult error, as a failure of the attempt's own transport would be."""
    import requests

    started = time.monotonic()

    def failed(error: str) -> AttemptResult:
        # Never the worker's fault: the hop (its address, its invoker grant, its ingress) needs looking at.
        logs.error("outbound sender hop failed", sender_url=sender_url, error=error)
        return AttemptResult(
            status_code=None, error=error, duration_ms=int((time.monotonic() - started) * 1000)
        )

    request_headers = {"Content-Type": "application/json"}
    try:
        token = id_token(sender_url)
    except Exception as exc:  # the metadata server's trouble: this attempt fails, the next one retries it
        return failed(f"sender hop: no ID token ({type(exc).__name__}: {exc})")
    if token is not None:
        request_headers["Authorization"] = f"Bearer {token}"
    try:
        payload = relayed_request(url, body, headers, policy)
    except ValidationError as exc:
        return failed(f"sender hop: request not sendable ({exc.errors(include_url=False)[0]['msg']})")
    try:
        response = _session().post(
            sender_url,
            json=payload,
            headers=request_headers,
            timeout=(RELAY_CONNECT_TIMEOUT_S, policy.timeout_s + margin_s),
            allow_redirects=False,
        )
    except requests.Timeout:
        return failed(f"sender hop: timed out after {policy.timeout_s + margin_s:g} s")
    except requests.RequestException as exc:
        return failed(f"sender hop: {type(exc).__name__}: {exc}")
    if response.status_code != 200:
        return failed(f"sender hop: answered {response.status_code}: {response.text[:200]}")
    try:
        return RelayedAnswer.model_validate_json(response.content).result()
    except (ValidationError, binascii.Error, ValueError) as exc:
        return failed(f"sender hop: unreadable answer ({type(exc).__name__})")
