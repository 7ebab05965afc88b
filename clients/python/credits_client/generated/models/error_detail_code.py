from enum import StrEnum
from typing import Any


class ErrorDetailCode(StrEnum):
    ACCOUNT_MISSING = "account_missing"
    ADMIN_REQUIRED = "admin_required"
    API_KEY_EXPIRED = "api_key_expired"
    API_KEY_REQUIRED = "api_key_required"
    API_KEY_REVOKED = "api_key_revoked"
    CARD_DECLINED = "card_declined"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    ILLEGAL_STATE_TRANSITION = "illegal_state_transition"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    INTERNAL_ERROR = "internal_error"
    INVALID_API_KEY = "invalid_api_key"
    INVALID_CALLBACK_TOKEN = "invalid_callback_token"
    INVALID_ID_TOKEN = "invalid_id_token"
    INVALID_JSON = "invalid_json"
    INVALID_REQUEST = "invalid_request"
    INVALID_SIGNATURE = "invalid_signature"
    LIVEMODE_REQUIRED = "livemode_required"
    MAINTENANCE_MODE = "maintenance_mode"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MISSING_API_KEY = "missing_api_key"
    MISSING_ID_TOKEN = "missing_id_token"
    NO_DEFAULT_PAYMENT_METHOD = "no_default_payment_method"
    PARAMETER_INVALID = "parameter_invalid"
    PARAMETER_MISSING = "parameter_missing"
    PARAMETER_UNKNOWN = "parameter_unknown"
    RATE_LIMITED = "rate_limited"
    REQUEST_TOO_LARGE = "request_too_large"
    RESOURCE_ALREADY_EXISTS = "resource_already_exists"
    RESOURCE_MISSING = "resource_missing"
    ROUTE_NOT_FOUND = "route_not_found"
    SERVICE_UNAVAILABLE = "service_unavailable"
    SETUP_INTENT_INCOMPLETE = "setup_intent_incomplete"
    STRIPE_ERROR = "stripe_error"
    STRIPE_REJECTED = "stripe_rejected"
    TOO_MANY_JOBS_IN_FLIGHT = "too_many_jobs_in_flight"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    USER_TOKEN_REQUIRED = "user_token_required"
    WEBHOOK_DISABLED = "webhook_disabled"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        """A value a newer server sends that this client does not list: kept (its own member, not a
        ValueError), so that answers carrying it still parse."""
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return cls._value2member_map_.setdefault(value, member)
