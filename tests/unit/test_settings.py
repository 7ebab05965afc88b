"""shared/core/settings.py: production by default, local only when asked for outside the deployed runtime,
Stripe secrets required and well formed in production, local-only switches refused there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.core.settings import (
    LOCAL_ONLY_VARIABLES,
    LOCAL_STRIPE_SECRET_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    RUNTIME_VARIABLES,
    SettingsError,
    get_settings,
    load_settings,
    require_redis_url,
    require_stripe_secrets,
)

LIVE_KEY = "sk_live_" + "a1B2c3D4e5F6g7H8i9J0"
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="
PRODUCTION_SECRETS = {"STRIPE_SECRET_KEY": LIVE_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
EVERYTHING = (
    "PLATFORM_ENV",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    *LOCAL_ONLY_VARIABLES,
    *RUNTIME_VARIABLES,
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment: none of the platform's variables set."""
    for name in EVERYTHING:
        monkeypatch.delenv(name, raising=False)
    # Deployed functions always mount it: Memorystore with AUTH and in-transit encryption.
    monkeypatch.setenv("REDIS_URL", "rediss://:auth-string@10.0.0.3:6378/0")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def set_all(env: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        env.setenv(name, value)


def test_unset_platform_env_means_production(env: pytest.MonkeyPatch) -> None:
    set_all(env, PRODUCTION_SECRETS)
    settings = load_settings()
    assert settings.is_production and settings.environment == "production"


@pytest.mark.parametrize("value", ["", "  "])
def test_empty_platform_env_means_production(env: pytest.MonkeyPatch, value: str) -> None:
    set_all(env, {**PRODUCTION_SECRETS, "PLATFORM_ENV": value})
    assert load_settings().is_production


def test_unknown_platform_env_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("PLATFORM_ENV", "staging")
    with pytest.raises(SettingsError, match="PLATFORM_ENV"):
        load_settings()


def test_explicit_local_uses_local_defaults(env: pytest.MonkeyPatch) -> None:
    env.setenv("PLATFORM_ENV", "local")
    settings = load_settings()
    assert not settings.is_production
    assert settings.stripe_secret_key == LOCAL_STRIPE_SECRET_KEY
    assert settings.stripe_webhook_secret == LOCAL_STRIPE_WEBHOOK_SECRET


@pytest.mark.parametrize("runtime", RUNTIME_VARIABLES)
def test_local_is_refused_inside_the_deployed_runtime(env: pytest.MonkeyPatch, runtime: str) -> None:
    set_all(env, {"PLATFORM_ENV": "local", runtime: "api"})
    with pytest.raises(SettingsError, match=runtime):
        load_settings()


def test_production_never_falls_back_to_local_secrets(env: pytest.MonkeyPatch) -> None:
    # Finding 1: with the webhook secret unset, anyone could sign events with the known local value.
    settings = load_settings()
    assert settings.is_production
    for read in (lambda: settings.stripe_webhook_secret, lambda: settings.stripe_secret_key):
        with pytest.raises(SettingsError, match="not set"):
            read()
    with pytest.raises(SettingsError):
        require_stripe_secrets()


@pytest.mark.parametrize("missing", sorted(PRODUCTION_SECRETS))
def test_stripe_functions_refuse_to_run_without_either_secret(env: pytest.MonkeyPatch, missing: str) -> None:
    set_all(env, {k: v for k, v in PRODUCTION_SECRETS.items() if k != missing})
    with pytest.raises(SettingsError, match=missing):
        require_stripe_secrets()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_SECRET_KEY", "sk_test_local"),  # too short: a placeholder, not a key
        ("STRIPE_SECRET_KEY", "pk_live_a1B2c3D4e5F6g7H8i9J0"),  # publishable key
        ("STRIPE_SECRET_KEY", "whsec_a1B2c3D4e5F6g7H8i9J0a1B2"),
        ("STRIPE_SECRET_KEY", "sk_live_a1B2c3D4 e5F6g7H8i9J0"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_local"),
        ("STRIPE_WEBHOOK_SECRET", LIVE_KEY),
        ("STRIPE_WEBHOOK_SECRET", "whsec_short"),
    ],
)
def test_malformed_secrets_are_refused_in_production_without_echoing_them(
    env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    set_all(env, {**PRODUCTION_SECRETS, name: value})
    with pytest.raises(SettingsError, match=name) as exc:
        load_settings()
    assert value not in str(exc.value)


@pytest.mark.parametrize(
    "key", ["sk_live_a1B2c3D4e5F6g7H8i9J0", "sk_test_a1B2c3D4e5F6g7H8i9J0", "rk_live_a1B2c3D4e5F6g7H8"]
)
def test_well_formed_secrets_are_accepted_in_production(env: pytest.MonkeyPatch, key: str) -> None:
    set_all(env, {**PRODUCTION_SECRETS, "STRIPE_SECRET_KEY": key})
    settings = require_stripe_secrets()
    assert settings.stripe_secret_key == key and settings.stripe_webhook_secret == WEBHOOK_SECRET


def test_functions_without_stripe_start_without_its_secrets(env: pytest.MonkeyPatch) -> None:
    # deliver_webhook and the workers are deployed without the secrets (least privilege).
    assert load_settings().is_production


@pytest.mark.parametrize("name", LOCAL_ONLY_VARIABLES)
def test_production_refuses_every_local_only_variable(env: pytest.MonkeyPatch, name: str) -> None:
    set_all(env, {**PRODUCTION_SECRETS, name: "true" if name == "ALLOW_LOOPBACK_WEBHOOKS" else "127.0.0.1:1"})
    with pytest.raises(SettingsError, match=name):
        load_settings()
    env.setenv("PLATFORM_ENV", "production")
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_stripe_api_base_is_refused_in_production(env: pytest.MonkeyPatch) -> None:
    # Finding 2 (reproduced): the live key would have been sent to any base URL.
    set_all(env, {**PRODUCTION_SECRETS, "STRIPE_API_BASE": "http://attacker.invalid"})
    with pytest.raises(SettingsError, match="STRIPE_API_BASE"):
        load_settings()


def test_local_accepts_the_local_switches(env: pytest.MonkeyPatch) -> None:
    set_all(
        env,
        {
            "PLATFORM_ENV": "local",
            "STRIPE_API_BASE": "http://127.0.0.1:8420",
            "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
            "ALLOW_LOOPBACK_WEBHOOKS": "true",
        },
    )
    settings = load_settings()
    assert settings.allow_loopback_webhooks and settings.firebase_auth_emulator
    assert settings.stripe_api_base == "http://127.0.0.1:8420"


def test_a_refused_configuration_is_not_cached(env: pytest.MonkeyPatch) -> None:
    # Every call fails (500 on every request), not only the first.
    env.setenv("STRIPE_API_BASE", "http://127.0.0.1:1")
    for _ in range(2):
        with pytest.raises(SettingsError):
            get_settings()
    env.delenv("STRIPE_API_BASE")
    assert get_settings().is_production


def test_project_id_must_be_lower_case(env: pytest.MonkeyPatch) -> None:
    set_all(env, {"PLATFORM_ENV": "local", "GOOGLE_CLOUD_PROJECT": "Demo"})
    with pytest.raises(SettingsError, match="lower case"):
        load_settings()


def test_production_requires_the_rate_limit_store_where_it_is_used(env: pytest.MonkeyPatch) -> None:
    from shared.core import clients
    from shared.core.clients import redis_client

    env.setattr(clients, "_redis", [])  # no client made by an earlier test
    set_all(env, PRODUCTION_SECRETS)
    env.delenv("REDIS_URL")
    # Functions that never use the store (those calling outside URLs) are deployed without its secret.
    settings = load_settings()
    # One that reaches for it without the URL is misdeployed: refused, never run unlimited.
    with pytest.raises(SettingsError, match="REDIS_URL"):
        require_redis_url(settings)
    with pytest.raises(SettingsError, match="REDIS_URL"):
        redis_client()
    env.setenv("PLATFORM_ENV", "local")
    assert require_redis_url(load_settings()) is None  # local runs without a store: no limits


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis://:auth-string@10.0.0.3:6379/0", "rediss://"),
        ("rediss://10.0.0.3:6378/0", "AUTH"),
        ("rediss://:@10.0.0.3:6378/0", "AUTH"),
    ],
)
def test_production_requires_an_encrypted_authenticated_store(
    env: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    set_all(env, {**PRODUCTION_SECRETS, "REDIS_URL": url})
    with pytest.raises(SettingsError, match=reason) as raised:
        load_settings()
    assert "auth-string" not in str(raised.value)
    env.setenv("PLATFORM_ENV", "local")  # local development keeps its plain local redis-server
    assert load_settings().redis_url == url


def test_production_refuses_to_switch_rate_limits_off(env: pytest.MonkeyPatch) -> None:
    set_all(env, {**PRODUCTION_SECRETS, "RATE_LIMITS_ENABLED": "false"})
    with pytest.raises(SettingsError, match="RATE_LIMITS_ENABLED"):
        load_settings()
