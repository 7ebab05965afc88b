"""Settings from environment variables, parsed strictly, read once per process (lazily, never at import).

Production is the default: only an explicit `PLATFORM_ENV=local` turns on local development, and even that is
refused inside the Cloud Run / Cloud Functions runtime (`K_SERVICE`, `FUNCTION_TARGET`), so a forgotten
variable can never switch the production guards off. In production:
- a Stripe secret that is set must be well formed, and one that is missing is never replaced by a local
  default: the functions that call Stripe (`api`, `stripe_webhook`; the only ones it is mounted on) require
  both with `require_stripe_secrets()`;
- every local-only variable (emulator hosts, the Stripe API base, loopback webhooks, ...) is refused.
A refused configuration raises SettingsError; it is never cached, and the entry points check settings first
on every call (functions/entry_guard.py), so a misconfigured instance answers 500 (logged) to every call and
applies nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

LOCAL = "local"
PRODUCTION = "production"
# Set by the Cloud Run / Cloud Functions (gen2) runtime: their presence means "deployed", whatever
# PLATFORM_ENV says.
RUNTIME_VARIABLES = ("K_SERVICE", "FUNCTION_TARGET")
# Settings that exist for local development only; production refuses them (and the deploy plan never sets
# them). STRIPE_API_BASE would send the live key to any server; the emulator hosts make the clients skip
# credentials (FIREBASE_AUTH_EMULATOR_HOST accepts unsigned ID tokens).
LOCAL_ONLY_VARIABLES = (
    "STRIPE_API_BASE",
    "FIRESTORE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "ALLOW_LOOPBACK_WEBHOOKS",
    "FUNCTIONS_BASE_URL",
    "PLATFORM_EXTRA_FUNCTIONS",
)
# Local development only: the values make dev, the tests and the benchmarks use (localstripe accepts any).
LOCAL_STRIPE_SECRET_KEY = "sk_test_local"  # noqa: S105 (local development only)
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_local"  # noqa: S105 (local development only)
# Stripe's formats: secret (sk_) or restricted (rk_) keys, live or test; webhook signing secrets whsec_.
STRIPE_SECRET_KEY_FORMAT = re.compile(r"^[sr]k_(live|test)_[A-Za-z0-9]{8,}$")
STRIPE_WEBHOOK_SECRET_FORMAT = re.compile(r"^whsec_[A-Za-z0-9+/=]{16,}$")


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
    # None only in production when not mounted on this function: read them through the properties.
    stripe_secret_key_or_none: str | None
    stripe_webhook_secret_or_none: str | None
    stripe_api_base: str | None
    allow_loopback_webhooks: bool
    firebase_auth_emulator: bool
    functions_base_url: str | None
    redis_url: str | None  # the shared store of rate limits and usage (Memorystore in production)
    rate_limits_enabled: bool  # off only for benchmarks measuring the limiter's overhead
    # Proxies of ours after Google's front end that append to X-Forwarded-For (1 behind an external load
    # balancer with Cloud Armor; shared/api/client_address.py).
    trusted_proxy_hops: int = 0
    # PEM of the certificate authority of Memorystore's in-transit encryption (rediss://): its server
    # certificate is signed by a per-instance CA, not a public one.
    redis_ca_cert: str | None = None
    # Where workers reach the API for their callbacks (the load balancer's address in front of `api`);
    # unset: the `api` function's own URL.
    public_api_url: str | None = None

    @property
    def is_production(self) -> bool:
        return self.environment == PRODUCTION

    @property
    def stripe_secret_key(self) -> str:
        if self.stripe_secret_key_or_none is None:
            raise SettingsError("STRIPE_SECRET_KEY is not set (mounted from Secret Manager in production)")
        return self.stripe_secret_key_or_none

    @property
    def stripe_webhook_secret(self) -> str:
        if self.stripe_webhook_secret_or_none is None:
            raise SettingsError(
                "STRIPE_WEBHOOK_SECRET is not set (mounted from Secret Manager in production)"
            )
        return self.stripe_webhook_secret_or_none


def platform_environment() -> str:
    """`local` only when asked for explicitly and not inside the deployed runtime; otherwise production."""
    raw = os.environ.get("PLATFORM_ENV")
    environment = PRODUCTION if raw is None or not raw.strip() else raw.strip().lower()
    if environment not in {LOCAL, PRODUCTION}:
        raise SettingsError(f"PLATFORM_ENV must be 'local' or 'production', got {raw!r}")
    if environment == LOCAL:
        deployed = [name for name in RUNTIME_VARIABLES if os.environ.get(name)]
        if deployed:
            raise SettingsError(
                f"PLATFORM_ENV=local is refused in the deployed runtime ({', '.join(deployed)})"
            )
    return environment


def _production_refusals() -> list[str]:
    return [name for name in LOCAL_ONLY_VARIABLES if os.environ.get(name, "").strip()]


def _secret(
    name: str, environment: str, local_default: str, pattern: re.Pattern[str], shape: str
) -> str | None:
    value = os.environ.get(name, "").strip()
    if environment == LOCAL:
        return value or local_default
    if not value:
        return None  # not mounted here; a function that calls Stripe refuses to run without it
    if not pattern.fullmatch(value):
        # Never echo the value: it is a secret, and logs are read by more people than secrets are.
        raise SettingsError(f"{name} is malformed: expected {shape}")
    return value


def load_settings() -> Settings:
    project_id = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT") or "demo-platform"
    if project_id != project_id.lower():
        raise SettingsError(f"project id must be lower case, got {project_id!r}")
    environment = platform_environment()
    if environment == PRODUCTION:
        refused = _production_refusals()
        if refused:
            raise SettingsError(f"local-development settings are refused in production: {', '.join(refused)}")
    stripe_secret_key = _secret(
        "STRIPE_SECRET_KEY",
        environment,
        LOCAL_STRIPE_SECRET_KEY,
        STRIPE_SECRET_KEY_FORMAT,
        "sk_live_..., sk_test_... (or rk_ restricted keys)",
    )
    stripe_webhook_secret = _secret(
        "STRIPE_WEBHOOK_SECRET",
        environment,
        LOCAL_STRIPE_WEBHOOK_SECRET,
        STRIPE_WEBHOOK_SECRET_FORMAT,
        "whsec_...",
    )
    # Mounted only on the functions that use the store (the deploy plan); the store's client refuses to
    # work without it in production (require_redis_url), so a function that needs it fails closed.
    redis_url = os.environ.get("REDIS_URL") or None
    if redis_url is not None and environment == "production":
        _check_production_redis(redis_url)
    rate_limits = _flag("RATE_LIMITS_ENABLED", default=True)
    if not rate_limits and environment == "production":
        raise SettingsError("RATE_LIMITS_ENABLED=false is for local benchmarks and is refused in production")
    return Settings(
        project_id=project_id,
        region=os.environ.get("FUNCTION_REGION", "us-central1"),
        environment=environment,
        stripe_secret_key_or_none=stripe_secret_key,
        stripe_webhook_secret_or_none=stripe_webhook_secret,
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
        allow_loopback_webhooks=_flag("ALLOW_LOOPBACK_WEBHOOKS", default=False),
        firebase_auth_emulator=bool(os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")),
        functions_base_url=os.environ.get("FUNCTIONS_BASE_URL") or None,
        redis_url=redis_url,
        rate_limits_enabled=rate_limits,
        trusted_proxy_hops=_int("TRUSTED_PROXY_HOPS", 0),
        redis_ca_cert=os.environ.get("REDIS_CA_CERT") or None,
        public_api_url=os.environ.get("PUBLIC_API_URL") or None,
    )


def _check_production_redis(url: str) -> None:
    """Memorystore with AUTH and in-transit encryption: `rediss://:<auth string>@<host>:6378/0`. Never
    echoes the URL (it holds the AUTH string)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        raise SettingsError("REDIS_URL is malformed") from None
    if parts.scheme != "rediss":
        raise SettingsError("REDIS_URL must be rediss:// in production (Memorystore in-transit encryption)")
    if not password:
        raise SettingsError("REDIS_URL must carry the Memorystore AUTH string in production")


@cache
def get_settings() -> Settings:
    # A SettingsError is not cached: every call re-raises it, so a misconfigured instance never serves.
    return load_settings()


def require_redis_url(settings: Settings) -> str | None:
    """The store's URL; in production a function that reaches for the store without one is misdeployed
    (rate limits and usage live there): refused, never run unlimited."""
    if settings.redis_url is None and settings.is_production:
        raise SettingsError("REDIS_URL is required in production by the functions that use the store")
    return settings.redis_url


def require_stripe_secrets() -> Settings:
    """Settings of a function that calls Stripe: both secrets present (and, in production, well formed)."""
    settings = get_settings()
    _ = settings.stripe_secret_key, settings.stripe_webhook_secret
    return settings
