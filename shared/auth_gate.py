"""Authentication and maintenance checks applied to every `api` route (filled in by the auth work)."""

from __future__ import annotations

from shared.errors import ApiError
from shared.http import ApiRequest, Route


def before_request(request: ApiRequest, route: Route) -> None:
    """Runs before authentication: maintenance mode lives here."""


def authenticate(request: ApiRequest, requirement: str) -> None:
    if requirement == "none":
        return
    raise ApiError("missing_api_key", "Authentication is not available yet.")
