"""The API's single error type and the one table from error type to HTTP status."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorType(StrEnum):
    INVALID_REQUEST = "invalid_request_error"
    AUTHENTICATION = "authentication_error"
    PERMISSION = "permission_error"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    RATE_LIMIT = "rate_limit_error"
    API = "api_error"


# code -> (type, status). Every error the platform raises is listed here, so status codes stay consistent.
ERROR_CODES: dict[str, tuple[ErrorType, int]] = {
    "invalid_request": (ErrorType.INVALID_REQUEST, 400),
    "invalid_json": (ErrorType.INVALID_REQUEST, 400),
    "parameter_invalid": (ErrorType.INVALID_REQUEST, 400),
    "parameter_missing": (ErrorType.INVALID_REQUEST, 400),
    "parameter_unknown": (ErrorType.INVALID_REQUEST, 400),
    "resource_missing": (ErrorType.INVALID_REQUEST, 404),
    "route_not_found": (ErrorType.INVALID_REQUEST, 404),
    "method_not_allowed": (ErrorType.INVALID_REQUEST, 405),
    "resource_already_exists": (ErrorType.INVALID_REQUEST, 409),
    "idempotency_key_in_use": (ErrorType.INVALID_REQUEST, 409),
    "illegal_state_transition": (ErrorType.INVALID_REQUEST, 409),
    "webhook_disabled": (ErrorType.INVALID_REQUEST, 409),
    "invalid_signature": (ErrorType.INVALID_REQUEST, 400),
    "setup_intent_incomplete": (ErrorType.INVALID_REQUEST, 400),
    "no_default_payment_method": (ErrorType.INVALID_REQUEST, 400),
    "card_declined": (ErrorType.INVALID_REQUEST, 400),
    "request_too_large": (ErrorType.INVALID_REQUEST, 413),
    "unsupported_media_type": (ErrorType.INVALID_REQUEST, 415),
    "missing_api_key": (ErrorType.AUTHENTICATION, 401),
    "invalid_api_key": (ErrorType.AUTHENTICATION, 401),
    "api_key_revoked": (ErrorType.AUTHENTICATION, 401),
    "api_key_expired": (ErrorType.AUTHENTICATION, 401),
    "missing_id_token": (ErrorType.AUTHENTICATION, 401),
    "invalid_id_token": (ErrorType.AUTHENTICATION, 401),
    "account_missing": (ErrorType.PERMISSION, 403),
    "user_token_required": (ErrorType.PERMISSION, 403),
    "api_key_required": (ErrorType.PERMISSION, 403),
    "admin_required": (ErrorType.PERMISSION, 403),
    "insufficient_credits": (ErrorType.INSUFFICIENT_CREDITS, 402),
    "rate_limited": (ErrorType.RATE_LIMIT, 429),
    "stripe_error": (ErrorType.API, 502),
    "internal_error": (ErrorType.API, 500),
    "maintenance_mode": (ErrorType.API, 503),
    "service_unavailable": (ErrorType.API, 503),
}


class ApiError(Exception):
    """An error to show the caller: its code decides type and status via ERROR_CODES."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise KeyError(f"unknown error code {code!r}: add it to ERROR_CODES")
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}

    @property
    def type(self) -> ErrorType:
        return ERROR_CODES[self.code][0]

    @property
    def status(self) -> int:
        return ERROR_CODES[self.code][1]

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type.value, "code": self.code, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def not_found(resource: str, param: str | None = None) -> ApiError:
    return ApiError("resource_missing", f"No such {resource}.", param=param)
