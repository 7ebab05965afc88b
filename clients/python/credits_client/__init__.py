"""Python client of the Credits platform API.

    from credits_client import Client            # CREDITS_API_KEY and CREDITS_BASE_URL from the environment
    client = Client()
    job = client.jobs.wait(client.jobs.create(type="echo", input={"hello": "world"}).job_id)

`AsyncClient` is the same for asyncio. Models (credits_client.models) and operations
(credits_client.generated.api) are generated from the API's OpenAPI description by clients/generate.py; this
package's own modules are the thin layer over them.
"""

from credits_client import models
from credits_client._client import API_KEY_VARIABLE, BASE_URL_VARIABLE, AsyncClient, Client
from credits_client._errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    AuthenticationError,
    ConfigurationError,
    InsufficientCreditsError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseParseError,
    ServerError,
)
from credits_client._http import RateLimit, ResponseInfo, RetryPolicy
from credits_client._operations import new_idempotency_key
from credits_client._version import __version__
from credits_client.webhooks import WebhookEvent, WebhookVerificationError

__all__ = [
    "API_KEY_VARIABLE",
    "BASE_URL_VARIABLE",
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitedError",
    "ResponseInfo",
    "ResponseParseError",
    "RetryPolicy",
    "ServerError",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "models",
    "new_idempotency_key",
]
