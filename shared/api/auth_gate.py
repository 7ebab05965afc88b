"""Authentication and maintenance checks applied to every `api` route.

Route requirements: "none", "user" (Firebase ID token), "key" (API key), "user_or_key", "admin" (ID token
with the custom claim admin: true), "callback" (a job attempt's callback token, checked by the route's
service: a refused one takes a token from the client address's bucket, `refuse_callback`).
"""

from __future__ import annotations

from shared.api.http import ApiRequest, Route
from shared.core.errors import ApiError, ErrorCode
from shared.core.principals import KeyPrincipal, UserPrincipal

API_KEY_PREFIX = "sk_"


MAINTENANCE_EXEMPT_PREFIXES = ("/v1/health", "/v1/openapi.json", "/v1/admin")


def exempt_from_maintenance(route: Route) -> bool:
    # A worker's callback reports work already done: maintenance must not lose it.
    if route.auth == "callback":
        return True
    return route.auth in ("none", "admin") and route.path.startswith(MAINTENANCE_EXEMPT_PREFIXES)


def before_request(request: ApiRequest, route: Route) -> None:
    """Runs before authentication: maintenance mode lives here (health, OpenAPI and admin are exempt)."""
    if exempt_from_maintenance(route):
        return
    from shared.system.maintenance import raise_if_maintenance

    raise_if_maintenance()


def bearer_token(request: ApiRequest) -> str | None:
    header = request.header("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


# request.context flag: this request has taken its token from its client address's bucket.
ANONYMOUS_CHARGED = "anonymous_charged"


def authenticate(request: ApiRequest, requirement: str) -> None:
    """Public routes and failed authentication take a token from the client address's bucket (so do first
    lookups of an unknown key, before they cost a query); over it: 429 (docs/rate-limits.md)."""
    if requirement == "none":
        limit_anonymous(request)
        return
    if requirement == "callback":
        return  # the route's service checks the token against the job (refuse_callback on failure)
    try:
        _authenticate(request, requirement)
    except ApiError as exc:
        if exc.status == 401 and not request.context.get(ANONYMOUS_CHARGED):
            limit_anonymous(request)
        raise


def _authenticate(request: ApiRequest, requirement: str) -> None:
    token = bearer_token(request)
    wants_key = requirement in ("key", "user_or_key")
    if token is None:
        if wants_key:
            raise ApiError(ErrorCode.MISSING_API_KEY, "Send your API key as 'Authorization: Bearer sk_...'.")
        raise ApiError(
            ErrorCode.MISSING_ID_TOKEN, "Sign in and send your ID token as 'Authorization: Bearer <token>'."
        )
    if token.startswith(API_KEY_PREFIX):
        if not wants_key:
            raise ApiError(
                ErrorCode.USER_TOKEN_REQUIRED, "This endpoint needs a signed-in user, not an API key."
            )
        from shared.keys.auth import authenticate_api_key

        request.principal = authenticate_api_key(token, before_lookup=lambda: limit_anonymous(request))
        limit_rate(request)
        return
    if token == "" and wants_key:
        raise ApiError(ErrorCode.INVALID_API_KEY, "Malformed Authorization header: use 'Bearer sk_...'.")
    if requirement == "key":
        raise ApiError(ErrorCode.INVALID_API_KEY, "Invalid API key provided.")
    from shared.api.id_tokens import verify_id_token

    user = verify_id_token(token)
    if requirement == "admin" and not user.admin:
        raise ApiError(ErrorCode.ADMIN_REQUIRED, "This endpoint is for administrators.")
    request.principal = user
    limit_rate(request)


def request_address(request: ApiRequest) -> str:
    from shared.api.client_address import FORWARDED_FOR, client_address
    from shared.core.settings import get_settings

    return client_address(
        request.header(FORWARDED_FOR), request.raw.remote_addr, get_settings().trusted_proxy_hops
    )


def refuse_callback(request: ApiRequest, error: ApiError) -> ApiError:
    """A refused callback token costs the client address a token, as failed authentication does."""
    if error.status == 401:
        limit_anonymous(request)
    return error


def limit_anonymous(request: ApiRequest) -> None:
    """One token from the client address's bucket, once per request; 429 with Retry-After when empty."""
    from shared.keys.limits import ANONYMOUS_RATE_LIMIT, take

    request.context[ANONYMOUS_CHARGED] = True
    decision = take(f"address:{request_address(request)}", ANONYMOUS_RATE_LIMIT, "address")
    if decision is None or decision.allowed:
        return
    headers = decision.headers()
    raise ApiError(
        ErrorCode.RATE_LIMITED,
        f"Too many unauthenticated or failed requests from your address: limited to {decision.limit} per "
        f"second. Retry after {decision.retry_after_s} s.",
        headers=headers,
    )


def limit_rate(request: ApiRequest) -> None:
    """Per-key and per-account (or per signed-in user) rate limits, shared by all instances; their RateLimit
    header fields go on every response to an authenticated request, the 429 included (docs/rate-limits.md)."""
    from shared.keys.account_limits import account_limits
    from shared.keys.limits import USER_RATE_LIMIT, take, take_for_key
    from shared.keys.usage import request_fields

    principal = request.principal
    if isinstance(principal, KeyPrincipal):
        decision = take_for_key(
            principal.user_id,
            principal.key_id,
            principal.environment,
            principal.rate_limit,
            request_fields(principal.user_id, principal.key_id, principal.livemode),
            account_limits(principal.user_id, principal.environment).rate_limit,
        )
    else:
        assert isinstance(principal, UserPrincipal)
        decision = take(f"user:{principal.user_id}", USER_RATE_LIMIT, "user")
    if decision is None:
        return
    headers = decision.headers()
    request.response_headers.update(headers)
    if not decision.allowed:
        raise ApiError(
            ErrorCode.RATE_LIMITED,
            f"Too many requests: this {decision.policy} is limited to {decision.limit} per second. "
            f"Retry after {decision.retry_after_s} s.",
            headers=headers,
        )


def require_user(request: ApiRequest) -> UserPrincipal:
    principal = request.principal
    assert isinstance(principal, UserPrincipal)
    return principal


def require_key(request: ApiRequest) -> KeyPrincipal:
    principal = request.principal
    assert isinstance(principal, KeyPrincipal)
    return principal


def is_test_key(request: ApiRequest) -> bool:
    """A test-mode key sees and changes test-mode things only (docs/security.md, "Test and live")."""
    principal = request.principal
    return isinstance(principal, KeyPrincipal) and not principal.livemode


def require_user_or_live_key(request: ApiRequest) -> str:
    """The caller's user id, unless the caller is a test key: what serves live traffic (the webhook
    endpoint) is changed only by the signed-in user or a live key, never by a test key."""
    if is_test_key(request):
        raise ApiError(
            ErrorCode.LIVEMODE_REQUIRED,
            "Test keys cannot change live settings; use a live key or the dashboard.",
        )
    return caller_user_id(request)


def caller_user_id(request: ApiRequest) -> str:
    principal = request.principal
    assert isinstance(principal, UserPrincipal | KeyPrincipal)
    return principal.user_id
