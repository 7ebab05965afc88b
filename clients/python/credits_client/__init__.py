"""Python client of the Credits platform API.

    from credits_client import Client, ApiError
    client = Client(api_key="sk_test_...", base_url="http://127.0.0.1:5001/demo-platform/us-central1/api")
    job = client.jobs.wait(client.jobs.create(type="echo", input={"hello": "world"}).job_id)

Models (credits_client.models) and operations (credits_client.generated.api) are generated from the API's
OpenAPI description by clients/generate.py; this package's own modules are the thin layer over them.
"""

from credits_client import models
from credits_client._client import DEFAULT_BASE_URL, Client, new_idempotency_key, paginate
from credits_client._errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    InsufficientCreditsError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from credits_client._http import RateLimit, ResponseInfo, RetryPolicy
from credits_client.webhooks import WebhookEvent, WebhookVerificationError

__version__ = "1.0.0"
__all__ = [
    "DEFAULT_BASE_URL",
    "ApiConnectionError",
    "ApiError",
    "AuthenticationError",
    "Client",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitedError",
    "ResponseInfo",
    "RetryPolicy",
    "ServerError",
    "WebhookEvent",
    "WebhookVerificationError",
    "models",
    "new_idempotency_key",
    "paginate",
]
