"""Rate limits per API key and per signed-in user, shared by every instance of `api` (docs/rate-limits.md).

One token bucket per key (or user) lives in the shared store (Redis: Memorystore in production). Each
request makes one round trip: a Lua script refills the bucket from the store's own clock (so instances'
clocks never matter), takes a token if there is one and, in the same call, counts the request in the usage
hash (shared/keys/usage.py). Nothing is written to Firestore on this path.

The bucket holds `limit` tokens (one second's worth: the burst allowance) and refills at `limit` per second,
so over any T seconds at most limit * (T + 1) requests pass. When the store is unreachable the limiter fails
open: rate limiting protects the platform, and an outage of its store must not become an outage of the API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shared.core import logs
from shared.core.clients import current_project, redis_client
from shared.core.settings import get_settings
from shared.models import KeyEnvironment

DEFAULT_RATE_LIMITS = {KeyEnvironment.LIVE: 100, KeyEnvironment.TEST: 25}  # requests/s, Stripe's defaults
# requests/s per signed-in (dashboard) user: far above what a person clicks, well below a flood
USER_RATE_LIMIT = 100
MIN_RATE_LIMIT = 1
MAX_RATE_LIMIT = 1000  # above this a key needs a bigger store plan, not a setting
DEFAULT_JOBS_IN_FLIGHT = {KeyEnvironment.LIVE: 100, KeyEnvironment.TEST: 20}

# KEYS[1]: the bucket; KEYS[2]: the usage hash. ARGV: rate/s, capacity, usage field of requests ('' for
# none), usage field of refusals. Returns {allowed (0/1), tokens left (string: Lua numbers would be cut)}.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'v')
local tokens = capacity
if state[1] and state[2] then
  local elapsed = math.max(0, now - tonumber(state[1]))
  tokens = math.min(capacity, tonumber(state[2]) + elapsed * rate / 1000)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', now, 'v', tostring(tokens))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
if ARGV[3] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  if allowed == 0 then
    redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
  end
end
return {allowed, tostring(tokens)}
"""
_scripts: dict[int, Any] = {}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # requests per second
    remaining: int  # whole tokens left in the bucket
    reset_s: int  # seconds until the bucket is full again
    retry_after_s: int  # seconds until the next token (0 when allowed)
    policy: str

    def headers(self) -> dict[str, str]:
        """IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): the policy's quota per
        1-second window, and what is left of it now."""
        headers = {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w=1',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_s}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


def decide(tokens: float, allowed: bool, limit: int, policy: str) -> Decision:
    """The decision's numbers from the bucket's level after the request (pure; unit-tested)."""
    tokens = max(0.0, min(float(limit), tokens))
    reset_s = math.ceil((limit - tokens) / limit) if tokens < limit else 0
    retry_after = 0 if allowed else max(1, math.ceil((1 - tokens) / limit))
    return Decision(allowed, limit, int(tokens), reset_s, retry_after, policy)


def key_rate_limit(environment: KeyEnvironment, override: int | None) -> int:
    return override if override is not None else DEFAULT_RATE_LIMITS[environment]


def take(
    bucket: str, limit: int, policy: str, usage_fields: tuple[str, str] | None = None
) -> Decision | None:
    """Take one token from `bucket` (limit/s, burst of `limit`); None when limits are off or the store is
    unreachable (fail open). `usage_fields` (requests, refused) are counted in the same round trip."""
    if not get_settings().rate_limits_enabled:
        return None
    client = redis_client()
    if client is None:
        return None
    from shared.keys.usage import usage_hash_key

    script = _scripts.get(id(client))
    if script is None:
        script = _scripts.setdefault(id(client), client.register_script(_BUCKET_SCRIPT))
    requests_field, refused_field = usage_fields or ("", "")
    project = current_project()
    try:
        allowed, tokens = script(
            keys=[f"rl:{project}:{bucket}", usage_hash_key(project)],
            args=[limit, limit, requests_field, refused_field],
        )
    except Exception as exc:  # any store failure: fail open, loudly in the logs
        logs.warning("rate limiter unavailable; allowing the request", error=repr(exc), bucket=bucket)
        return None
    return decide(float(tokens), bool(allowed), limit, policy)
