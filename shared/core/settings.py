"""Settings from environment variables, parsed strictly, read once per process (lazily, never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting is present but unusable: fail loudly at first use rather than run misconfigured."""


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of true/false/1/0/yes/no/on/off, got {raw!r}")


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    project_id: str
    region: str
    environment: str  # "local" or "production"
    stripe_secret_key: str
    stripe_webhook_secret: str
    stripe_api_base: str | None
    allow_loopback_webhooks: bool
    firebase_auth_emulator: bool
    functions_base_url: str | None
    redis_url: str | None  # the shared store of rate limits and usage (Memorystore in production)
    rate_limits_enabled: bool  # off only for benchmarks measuring the limiter's overhead

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def load_settings() -> Settings:
    project_id = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT") or "demo-platform"
    if project_id != project_id.lower():
        raise SettingsError(f"project id must be lower case, got {project_id!r}")
    environment = os.environ.get("PLATFORM_ENV", "local").strip().lower()
    if environment not in {"local", "production"}:
        raise SettingsError(f"PLATFORM_ENV must be 'local' or 'production', got {environment!r}")
    allow_loopback = _flag("ALLOW_LOOPBACK_WEBHOOKS", default=False)
    if allow_loopback and environment == "production":
        raise SettingsError("ALLOW_LOOPBACK_WEBHOOKS is for local development and is refused in production")
    auth_emulator = bool(os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"))
    if auth_emulator and environment == "production":
        raise SettingsError(
            "FIREBASE_AUTH_EMULATOR_HOST accepts unsigned tokens and is refused in production"
        )
    redis_url = os.environ.get("REDIS_URL") or None
    if redis_url is None and environment == "production":
        raise SettingsError("REDIS_URL is required in production: rate limits and usage live there")
    rate_limits = _flag("RATE_LIMITS_ENABLED", default=True)
    if not rate_limits and environment == "production":
        raise SettingsError("RATE_LIMITS_ENABLED=false is for local benchmarks and is refused in production")
    return Settings(
        project_id=project_id,
        region=os.environ.get("FUNCTION_REGION", "us-central1"),
        environment=environment,
        stripe_secret_key=os.environ.get("STRIPE_SECRET_KEY", "sk_test_local"),
        stripe_webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_local"),
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
        allow_loopback_webhooks=allow_loopback,
        firebase_auth_emulator=auth_emulator,
        functions_base_url=os.environ.get("FUNCTIONS_BASE_URL") or None,
        redis_url=redis_url,
        rate_limits_enabled=rate_limits,
    )


@cache
def get_settings() -> Settings:
    return load_settings()
