"""Errors: every error answer of the API is an ApiError; a platform that could not be reached is an
ApiConnectionError (after the retries), one that did not answer in time an ApiTimeoutError; an answer this
client cannot read is a ResponseParseError. A client without its settings raises ConfigurationError."""

from __future__ import annotations

from typing import Any

import httpx

from credits_client._http import RateLimit, retry_after_s


class ApiError(Exception):
    """An error answer: `{"error": {"type", "code", "message", "param"?}}` with its status and Request-Id."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        type: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        rate_limit: RateLimit | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (request {request_id})" if request_id else ""))
        self.status = status
        self.code = code
        self.message = message
        self.type = type
        self.param = param
        self.request_id = request_id
        self.rate_limit = rate_limit
        self.retry_after_s = retry_after_s

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        error: dict[str, Any] = {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
        kind = ERROR_CLASSES.get(response.status_code, ApiError)
        return kind(
            response.status_code,
            str(error.get("code") or "http_error"),
            str(error.get("message") or f"HTTP {response.status_code} without an error body."),
            type=error.get("type"),
            param=error.get("param"),
            request_id=response.headers.get("Request-Id"),
            rate_limit=RateLimit.from_headers(response.headers),
            retry_after_s=retry_after_s(response.headers),
        )


class InvalidRequestError(ApiError):
    """400, 404, 409, 413, 415: the request cannot succeed as it is."""


class AuthenticationError(ApiError):
    """401: missing, invalid, revoked or expired credentials."""


class PermissionDeniedError(ApiError):
    """403: these credentials may not do this."""


class InsufficientCreditsError(ApiError):
    """402: the balance does not cover the job's cost."""


class RateLimitedError(ApiError):
    """429 after the retries: see `.retry_after_s` and `.rate_limit`."""


class ServerError(ApiError):
    """5xx after the retries."""


ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: InvalidRequestError,
    409: InvalidRequestError,
    413: InvalidRequestError,
    415: InvalidRequestError,
    429: RateLimitedError,
    500: ServerError,
    502: ServerError,
    503: ServerError,
}


class ApiConnectionError(ApiError):
    """The platform could not be reached (after the retries); `.status` is 0."""

    def __init__(self, cause: httpx.TransportError) -> None:
        super().__init__(0, "connection_error", f"{type(cause).__name__}: {cause}")
        self.__cause__ = cause

    @staticmethod
    def of(cause: httpx.TransportError) -> ApiConnectionError:
        return (
            ApiTimeoutError(cause) if isinstance(cause, httpx.TimeoutException) else ApiConnectionError(cause)
        )


class ApiTimeoutError(ApiConnectionError):
    """No answer within the timeout (`timeout_s`, the client's or the call's), after the retries."""

    def __init__(self, cause: httpx.TransportError) -> None:
        super().__init__(cause)
        self.code = "timeout"


class ResponseParseError(ApiError):
    """A success answer this client cannot read (not JSON, or missing what its model requires): `.status`
    is the answer's and `.request_id` identifies it, for a bug report."""

    @classmethod
    def of(cls, response: httpx.Response, cause: Exception) -> ResponseParseError:
        error = cls(
            response.status_code,
            "unparseable_response",
            f"The answer could not be read: {type(cause).__name__}: {cause}",
            request_id=response.headers.get("Request-Id"),
            rate_limit=RateLimit.from_headers(response.headers),
        )
        error.__cause__ = cause
        return error


class ConfigurationError(ValueError):
    """The client lacks a setting (an argument or its environment variable, which the message names)."""
