"""Registration-time checks of an outbound target URL (a webhook endpoint, a job type's worker): the
form of the URL, and an IP literal's address. Host names are resolved and checked again at every send
(shared/outbound/sender.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.core.errors import ApiError, ErrorCode
from shared.core.settings import get_settings
from shared.outbound.ssrf import UnsafeTargetError, parse_host_address, resolve_and_check, validate_target_url


def check_url(url: str, param: str = "url") -> None:
    """Registration-time checks; addresses of host names are checked again at every send."""
    settings = get_settings()
    problem = validate_target_url(url, require_https=settings.is_production)
    if problem is not None:
        raise ApiError(ErrorCode.PARAMETER_INVALID, f"Invalid {param}: {problem}.", param=param)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parse_host_address(host) is not None:  # an IP literal can be judged now, without DNS
        try:
            resolve_and_check(host, parts.port or 443, settings.allow_loopback_webhooks)
        except UnsafeTargetError as exc:
            raise ApiError(
                ErrorCode.PARAMETER_INVALID, f"Invalid {param}: {exc.reason}.", param=param
            ) from None
