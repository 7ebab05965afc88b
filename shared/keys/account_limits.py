"""An account's live limits: the defaults (shared/keys/limits.py), or an administrator's override of the
account rate limit and the account's jobs in flight, kept in `account_limits/{uid}`.

Each instance serves the overrides from its TTL cache (one document read per account per
REFRESH_SECONDS, a missing document included), so a changed override holds everywhere within that time.
Test-mode limits have no override: test traffic never needs more than the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.cloud import firestore

from shared.accounts.service import account_ref
from shared.core.clients import firestore_client
from shared.core.errors import not_found
from shared.core.ttl_cache import TtlCache
from shared.keys.limits import ACCOUNT_JOBS_IN_FLIGHT, ACCOUNT_RATE_LIMITS
from shared.models import AccountLimits, KeyEnvironment, utc_now

REFRESH_SECONDS = 5.0
# Above these an account needs a bigger rate-limit store plan or a count that is not an aggregation
# (docs/capacity.md), not a setting.
MAX_ACCOUNT_RATE_LIMIT = 20_000
MAX_ACCOUNT_JOBS_IN_FLIGHT = 100_000

_overrides: TtlCache[str, AccountLimits | None] = TtlCache(REFRESH_SECONDS)


@dataclass(frozen=True)
class EffectiveLimits:
    rate_limit: int
    jobs_in_flight: int
    rate_limit_override: int | None
    jobs_in_flight_override: int | None


def _ref(user_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(AccountLimits.collection).document(user_id)


def _load(user_id: str) -> AccountLimits | None:
    snapshot = _ref(user_id).get()
    return AccountLimits.from_firestore(snapshot.to_dict()) if snapshot.exists else None


def account_overrides(user_id: str) -> AccountLimits | None:
    return _overrides.get(user_id, lambda _previous: _load(user_id))


def effective_limits(overrides: AccountLimits | None, environment: KeyEnvironment) -> EffectiveLimits:
    """The limits in force for one mode of an account (pure)."""
    rate = overrides.rate_limit if overrides is not None and environment is KeyEnvironment.LIVE else None
    jobs = overrides.jobs_in_flight if overrides is not None and environment is KeyEnvironment.LIVE else None
    return EffectiveLimits(
        rate_limit=rate if rate is not None else ACCOUNT_RATE_LIMITS[environment],
        jobs_in_flight=jobs if jobs is not None else ACCOUNT_JOBS_IN_FLIGHT[environment],
        rate_limit_override=rate,
        jobs_in_flight_override=jobs,
    )


def account_limits(user_id: str, environment: KeyEnvironment) -> EffectiveLimits:
    if environment is not KeyEnvironment.LIVE:
        return effective_limits(None, environment)
    return effective_limits(account_overrides(user_id), environment)


def limits_resource(user_id: str, overrides: AccountLimits | None) -> dict[str, object]:
    live = effective_limits(overrides, KeyEnvironment.LIVE)
    return {
        "user_id": user_id,
        "rate_limit": live.rate_limit,
        "rate_limit_override": live.rate_limit_override,
        "jobs_in_flight": live.jobs_in_flight,
        "jobs_in_flight_override": live.jobs_in_flight_override,
    }


def admin_set_account_limits(user_id: str, changes: dict[str, int | None]) -> dict[str, object]:
    """Set (a number) or clear (None) the given overrides of an existing account; the others stay."""
    if not account_ref(user_id).get().exists:
        raise not_found("account", "user_id")
    current = _load(user_id)
    fields = current.model_dump() if current is not None else {}
    fields.update(changes)
    fields["updated_at"] = utc_now()
    limits = AccountLimits.model_validate(fields)
    _ref(user_id).set(limits.to_firestore())
    _overrides.put(user_id, limits)
    return limits_resource(user_id, limits)


def admin_get_account_limits(user_id: str) -> dict[str, object]:
    if not account_ref(user_id).get().exists:
        raise not_found("account", "user_id")
    return limits_resource(user_id, _load(user_id))
