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


class ErrorCode(StrEnum):
    """Every error code the platform answers; a typo is a type error, not a runtime surprise."""

    INVALID_REQUEST = "invalid_request"
    INVALID_JSON = "invalid_json"
    PARAMETER_INVALID = "parameter_invalid"
    PARAMETER_MISSING = "parameter_missing"
    PARAMETER_UNKNOWN = "parameter_unknown"
    RESOURCE_MISSING = "resource_missing"
    ROUTE_NOT_FOUND = "route_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RESOURCE_ALREADY_EXISTS = "resource_already_exists"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    ILLEGAL_STATE_TRANSITION = "illegal_state_transition"
    WEBHOOK_DISABLED = "webhook_disabled"
    INVALID_SIGNATURE = "invalid_signature"
    SETUP_INTENT_INCOMPLETE = "setup_intent_incomplete"
    NO_DEFAULT_PAYMENT_METHOD = "no_default_payment_method"
    CARD_DECLINED = "card_declined"
    REQUEST_TOO_LARGE = "request_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    MISSING_API_KEY = "missing_api_key"
    INVALID_API_KEY = "invalid_api_key"
    API_KEY_REVOKED = "api_key_revoked"
    API_KEY_EXPIRED = "api_key_expired"
    MISSING_ID_TOKEN = "missing_id_token"
    INVALID_ID_TOKEN = "invalid_id_token"
    INVALID_CALLBACK_TOKEN = "invalid_callback_token"
    ACCOUNT_MISSING = "account_missing"
    USER_TOKEN_REQUIRED = "user_token_required"
    API_KEY_REQUIRED = "api_key_required"
    ADMIN_REQUIRED = "admin_required"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    RATE_LIMITED = "rate_limited"
    STRIPE_ERROR = "stripe_error"
    STRIPE_REJECTED = "stripe_rejected"
    INTERNAL_ERROR = "internal_error"
    MAINTENANCE_MODE = "maintenance_mode"
    SERVICE_UNAVAILABLE = "service_unavailable"
    LIVEMODE_REQUIRED = "livemode_required"
    TOO_MANY_JOBS_IN_FLIGHT = "too_many_jobs_in_flight"


# code -> (type, status). Every error the platform raises is listed here, so status codes stay consistent.
ERROR_CODES: dict[ErrorCode, tuple[ErrorType, int]] = {
    ErrorCode.INVALID_REQUEST: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.INVALID_JSON: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.PARAMETER_INVALID: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.PARAMETER_MISSING: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.PARAMETER_UNKNOWN: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.RESOURCE_MISSING: (ErrorType.INVALID_REQUEST, 404),
    ErrorCode.ROUTE_NOT_FOUND: (ErrorType.INVALID_REQUEST, 404),
    ErrorCode.METHOD_NOT_ALLOWED: (ErrorType.INVALID_REQUEST, 405),
    ErrorCode.RESOURCE_ALREADY_EXISTS: (ErrorType.INVALID_REQUEST, 409),
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: (ErrorType.INVALID_REQUEST, 409),
    ErrorCode.ILLEGAL_STATE_TRANSITION: (ErrorType.INVALID_REQUEST, 409),
    ErrorCode.WEBHOOK_DISABLED: (ErrorType.INVALID_REQUEST, 409),
    ErrorCode.INVALID_SIGNATURE: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.SETUP_INTENT_INCOMPLETE: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.NO_DEFAULT_PAYMENT_METHOD: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.CARD_DECLINED: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.REQUEST_TOO_LARGE: (ErrorType.INVALID_REQUEST, 413),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: (ErrorType.INVALID_REQUEST, 415),
    ErrorCode.MISSING_API_KEY: (ErrorType.AUTHENTICATION, 401),
    ErrorCode.INVALID_API_KEY: (ErrorType.AUTHENTICATION, 401),
    ErrorCode.API_KEY_REVOKED: (ErrorType.AUTHENTICATION, 401),
    ErrorCode.API_KEY_EXPIRED: (ErrorType.AUTHENTICATION, 401),
    ErrorCode.MISSING_ID_TOKEN: (ErrorType.AUTHENTICATION, 401),
    ErrorCode.INVALID_ID_TOKEN: (ErrorType.AUTHENTICATION, 401),
    ErrorCode.INVALID_CALLBACK_TOKEN: (ErrorType.AUTHENTICATION, 401),
    ErrorCode.ACCOUNT_MISSING: (ErrorType.PERMISSION, 403),
    ErrorCode.USER_TOKEN_REQUIRED: (ErrorType.PERMISSION, 403),
    ErrorCode.API_KEY_REQUIRED: (ErrorType.PERMISSION, 403),
    ErrorCode.ADMIN_REQUIRED: (ErrorType.PERMISSION, 403),
    ErrorCode.INSUFFICIENT_CREDITS: (ErrorType.INSUFFICIENT_CREDITS, 402),
    ErrorCode.RATE_LIMITED: (ErrorType.RATE_LIMIT, 429),
    ErrorCode.STRIPE_ERROR: (ErrorType.API, 502),
    ErrorCode.STRIPE_REJECTED: (ErrorType.INVALID_REQUEST, 400),
    ErrorCode.INTERNAL_ERROR: (ErrorType.API, 500),
    ErrorCode.MAINTENANCE_MODE: (ErrorType.API, 503),
    ErrorCode.SERVICE_UNAVAILABLE: (ErrorType.API, 503),
    ErrorCode.LIVEMODE_REQUIRED: (ErrorType.PERMISSION, 403),
    ErrorCode.TOO_MANY_JOBS_IN_FLIGHT: (ErrorType.RATE_LIMIT, 429),
}


class ApiError(Exception):
    """An error to show the caller: its code decides type and status via ERROR_CODES."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        stripe_code: str | None = None,
    ) -> None:
        code = ErrorCode(code)  # a stray string fails here, loudly, as well as in the type check
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}
        self.stripe_code = stripe_code

    @property
    def type(self) -> ErrorType:
        return ERROR_CODES[self.code][0]

    @property
    def status(self) -> int:
        return ERROR_CODES[self.code][1]

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type.value, "code": self.code.value, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.stripe_code is not None:
            error["stripe_code"] = self.stripe_code
        return {"error": error}


def not_found(resource: str, param: str | None = None) -> ApiError:
    return ApiError(ErrorCode.RESOURCE_MISSING, f"No such {resource}.", param=param)
