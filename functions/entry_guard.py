"""Every entry point checks its settings first, on every call: a production instance with a missing or
malformed secret, or with a local-development switch, answers 500 (logged) and touches nothing.

Settings errors are never cached (shared/core/settings.py), so the refusal lasts until the configuration is
fixed and the instance replaced, and it names the fault in the log, never a secret's value.
"""

from __future__ import annotations

import flask

from shared.api.http import error_response, new_request_id
from shared.core import logs
from shared.core.errors import ApiError, ErrorCode
from shared.core.settings import SettingsError, get_settings, require_stripe_secrets


def check_settings(calls_stripe: bool) -> None:
    """Raises SettingsError when this function must not run (event-driven entry points: logged, retried)."""
    if calls_stripe:
        require_stripe_secrets()
    else:
        get_settings()


def refuse_misconfigured(function: str, calls_stripe: bool) -> flask.Response | None:
    """None when the settings are usable; otherwise the JSON 500 the HTTP function answers."""
    try:
        check_settings(calls_stripe)
    except SettingsError as exc:
        request_id = new_request_id()
        logs.error(f"{function} refuses to serve: {exc}", request_id=request_id)
        return error_response(ApiError(ErrorCode.INTERNAL_ERROR, "The service is misconfigured."), request_id)
    return None
