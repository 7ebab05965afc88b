"""Rate limits per API key and per signed-in user, shared by every instance of `api` (docs/rate-limits.md).

One token bucket per key (or user) lives in the shared store (Redis: Memorystore in production). A Lua
script refills it from the store's own clock (instances' clocks never matter) and hands out tokens. The
bucket holds `limit` tokens (one second's worth: the burst allowance) and refills at `limit` per second, so
over any T seconds at most limit * (T + 1) requests pass, however many instances serve the key.

Round trips are amortised: an instance takes a small lease of tokens at once (limit / 20, at least 1) and
spends it locally for at most LEASE_SECONDS; unspent tokens expire with the lease (never over-admission, a
little under-admission). The same round trip adds the requests counted since the last one to the usage
hash (shared/keys/usage.py); counts of a key that goes quiet are pushed by a background flusher within
PENDING_FLUSH_SECONDS. Nothing is written to Firestore on this path.

When the store is unreachable the limiter fails open: rate limiting protects the platform, and an outage of
its store must not become an outage of the API. A circuit breaker (StoreCircuit) keeps a slow or absent
store from costing every request its timeout: one failed or slow call opens it, and for OPEN_SECONDS every
request skips the store at once; then one request probes it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from shared.core import logs
from shared.core.clients import current_project, project_scope, redis_client
from shared.core.settings import get_settings
from shared.models import KeyEnvironment

# The limiter fails open when Redis fails: one line per minute per instance says so (docs/reliability.md).
RATE_LIMITER_OPEN = logs.FaultLog("rate_limiter_open")

DEFAULT_RATE_LIMITS = {KeyEnvironment.LIVE: 100, KeyEnvironment.TEST: 25}  # requests/s, Stripe's defaults
# requests/s per signed-in (dashboard) user: far above what a person clicks, well below a flood
USER_RATE_LIMIT = 100
MIN_RATE_LIMIT = 1
MAX_RATE_LIMIT = 1000  # above this a key needs a bigger store plan, not a setting
DEFAULT_JOBS_IN_FLIGHT = {KeyEnvironment.LIVE: 100, KeyEnvironment.TEST: 20}
# Over all of an account's keys of one mode: ten keys' worth at the defaults, so many keys never multiply
# what one account may ask of the platform (live and test apart: test traffic never eats the live budget).
ACCOUNT_RATE_LIMITS = {KeyEnvironment.LIVE: 1000, KeyEnvironment.TEST: 250}  # requests/s
ACCOUNT_JOBS_IN_FLIGHT = {KeyEnvironment.LIVE: 1000, KeyEnvironment.TEST: 200}
# Per client address: requests to public routes, requests that fail authentication, and first lookups of
# a key this instance does not know (each costs a Firestore query). Far above what a client that holds a
# key needs before its key is cached; a random-key flood gets this many Firestore queries per second.
ANONYMOUS_RATE_LIMIT = 20  # requests/s, burst 20
LEASE_FRACTION = 20  # a lease is 1/20 of a second's quota: 5 tokens of a 100/s key
LEASE_SECONDS = 0.25
# A request waits at most this long for another request of its instance fetching the same bucket's lease.
FETCH_WAIT_SECONDS = 1.0
PENDING_FLUSH_SECONDS = 5.0

# KEYS[1]: the bucket; KEYS[2]: the usage hash; KEYS[3] (optional): a second bucket every token must also
# come out of (the account's). ARGV: rate/s, capacity, tokens wanted, usage field of requests ('' for
# none), requests to add besides this one, field of refusals, refusals to add, and the second bucket's
# rate/s and capacity. Returns {tokens granted, tokens left, the second bucket's tokens left or -1} (the
# token counts as strings: Lua numbers would be cut to integers).
_BUCKET_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function refill(key, rate, capacity)
  local state = redis.call('HMGET', key, 't', 'v')
  if state[1] and state[2] then
    local elapsed = math.max(0, now - tonumber(state[1]))
    return math.min(capacity, tonumber(state[2]) + elapsed * rate / 1000)
  end
  return capacity
end
local function store(key, tokens, rate, capacity)
  redis.call('HSET', key, 't', now, 'v', tostring(tokens))
  redis.call('PEXPIRE', key, math.ceil(capacity * 1000 / rate) + 1000)
end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tokens = refill(KEYS[1], rate, capacity)
local granted = math.min(tonumber(ARGV[3]), math.floor(tokens))
local second = -1
if KEYS[3] then
  local rate2 = tonumber(ARGV[8])
  local capacity2 = tonumber(ARGV[9])
  second = refill(KEYS[3], rate2, capacity2)
  granted = math.min(granted, math.floor(second))
  second = second - granted
  store(KEYS[3], second, rate2, capacity2)
end
tokens = tokens - granted
store(KEYS[1], tokens, rate, capacity)
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[4], 1 + tonumber(ARGV[5]))
  local refused = tonumber(ARGV[7])
  if granted == 0 then refused = refused + 1 end
  if refused > 0 then redis.call('HINCRBY', KEYS[2], ARGV[6], refused) end
end
return {granted, tostring(tokens), tostring(second)}
"""
_scripts: dict[int, Any] = {}


# The breaker: a failed call opens it, and so do SLOW_CALLS_TO_OPEN calls in a row slower than
# SLOW_CALL_SECONDS (Memorystore answers in about a millisecond in region; one slow call is a hiccup, not a
# slow store). Open, requests skip the store for OPEN_SECONDS; then one probes it.
SLOW_CALL_SECONDS = 0.1
SLOW_CALLS_TO_OPEN = 3
OPEN_SECONDS = 5.0


class StoreCircuit:
    """Closed: calls go to the store. A failed call, or SLOW_CALLS_TO_OPEN slow ones in a row, open it: for
    OPEN_SECONDS `allow()` says no at once (the caller fails open without waiting). Then one caller at a
    time probes the store (half open): a fast success closes the circuit, anything else opens it again. So
    an absent store costs one request per OPEN_SECONDS per instance its timeout (250 ms), a slow one a few
    requests their slowness, and every other request nothing."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: closed
        self._probing = False
        self._slow_in_a_row = 0
        self.openings = 0

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self) -> bool:
        with self._lock:
            if self._open_until is None:
                return True
            if self._clock() < self._open_until or self._probing:
                return False
            self._probing = True  # this caller probes; the others keep failing open meanwhile
            return True

    def record(self, ok: bool, seconds: float) -> bool:
        """One call's outcome; True when it opened the circuit (the caller logs the fault: the limiter's
        RATE_LIMITER_OPEN line, which the log-based metric counts)."""
        with self._lock:
            was_open = self._open_until is not None
            self._probing = False
            slow = ok and seconds > SLOW_CALL_SECONDS
            self._slow_in_a_row = self._slow_in_a_row + 1 if slow else 0
            if ok and (not slow or (not was_open and self._slow_in_a_row < SLOW_CALLS_TO_OPEN)):
                if was_open:
                    self._open_until = None
                    logs.info("rate limiter closed: the store answers again")
                return False
            self._slow_in_a_row = 0
            self._open_until = self._clock() + OPEN_SECONDS
            if was_open:
                return False
            self.openings += 1
            return True


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # requests per second
    remaining: int  # whole tokens left (in the store plus this instance's lease)
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
    """The decision's numbers from the tokens left after the request (pure; unit-tested)."""
    tokens = max(0.0, min(float(limit), tokens))
    reset_s = math.ceil((limit - tokens) / limit) if tokens < limit else 0
    retry_after = 0 if allowed else max(1, math.ceil((1 - tokens) / limit))
    return Decision(allowed, limit, int(tokens), reset_s, retry_after, policy)


def lease_size(limit: int) -> int:
    return max(1, limit // LEASE_FRACTION)


def key_rate_limit(environment: KeyEnvironment, override: int | None) -> int:
    return override if override is not None else DEFAULT_RATE_LIMITS[environment]


@dataclass(frozen=True)
class SharedBucket:
    """A second bucket every token of a take must also come out of (an account's, over its keys), in the
    same round trip; a refusal because of it is reported under its own limit and policy."""

    bucket: str
    limit: int
    policy: str


@dataclass
class Lease:
    """One bucket's state on this instance: leased tokens and usage not yet in the store."""

    tokens: int = 0
    expires: float = 0.0
    store_tokens: float = 0.0  # what the store had left at the last round trip (for the headers)
    shared_tokens: float = 0.0  # the same of the shared bucket (SharedBucket), when there is one
    fields: tuple[str, str] | None = None  # usage fields the pending counts belong to
    pending_requests: int = 0
    pending_refused: int = 0
    touched: float = 0.0
    fetching: bool = False  # a request of this instance is fetching a lease from the store right now


class Limiter:
    """This instance's leases, keyed by (project, bucket); one per process."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._leases: dict[tuple[str, str], Lease] = {}
        self._lock = threading.Lock()
        self._lease_changed = threading.Condition(self._lock)
        self._flusher: threading.Thread | None = None
        self.circuit = StoreCircuit(clock)

    def take(
        self,
        bucket: str,
        limit: int,
        policy: str,
        usage_fields: tuple[str, str] | None = None,
        shared: SharedBucket | None = None,
    ) -> Decision | None:
        """One request against `bucket` (and `shared`, in the same round trip and lease); None when limits
        are off or the store is unreachable."""
        if not get_settings().rate_limits_enabled:
            return None
        client = redis_client()
        if client is None:
            return None
        project = current_project()
        now = self._clock()
        give_up_waiting = now + FETCH_WAIT_SECONDS
        with self._lease_changed:
            lease = self._leases.setdefault((project, bucket), Lease())
            lease.touched = now
            # Concurrent requests of this instance that find the lease empty wait for the one fetching it
            # instead of each leasing from the store: they would drain the bucket into this instance's
            # lease, and those that drew nothing would be refused while it still held tokens.
            while True:
                now = self._clock()
                if lease.tokens > 0 and now < lease.expires and lease.fields == usage_fields:
                    lease.tokens -= 1
                    if usage_fields is not None:
                        lease.pending_requests += 1
                    return decide(lease.store_tokens + lease.tokens, True, limit, policy)
                if not lease.fetching or now >= give_up_waiting:
                    break
                self._lease_changed.wait(give_up_waiting - now)
            if not self.circuit.allow():
                return None  # the store failed or was slow just now: fail open at once, counts kept pending
            lease.fetching = True
            stale_fields, pending, refused = lease.fields, lease.pending_requests, lease.pending_refused
            lease.tokens, lease.pending_requests, lease.pending_refused = 0, 0, 0
            lease.fields = usage_fields
        if stale_fields is not None and stale_fields != usage_fields:
            self._push(client, project, stale_fields, pending, refused)  # yesterday's, or another key's
            pending = refused = 0
        self._start_flusher()
        started = time.monotonic()
        try:
            keys = [f"rl:{project}:{bucket}", usage_key(project)]
            args: list[Any] = [limit, limit, lease_size(limit), *_usage_args(usage_fields, pending, refused)]
            if shared is not None:
                keys.append(f"rl:{project}:{shared.bucket}")
                args += [shared.limit, shared.limit]
            granted, left, shared_left = self._script(client)(keys=keys, args=args)
            if self.circuit.record(True, time.monotonic() - started):
                RATE_LIMITER_OPEN.warning("rate limiter store slow; allowing requests", bucket=bucket)
        except Exception as exc:  # any store failure: fail open, loudly in the logs
            self.circuit.record(False, time.monotonic() - started)
            RATE_LIMITER_OPEN.warning(
                "rate limiter unavailable; allowing requests", error=repr(exc), bucket=bucket
            )
            with self._lease_changed:
                lease.fetching = False
                self._lease_changed.notify_all()
            return None
        granted, store_tokens, shared_tokens = int(granted), float(left), float(shared_left)
        with self._lease_changed:
            lease.fetching = False
            self._lease_changed.notify_all()
            lease.store_tokens, lease.shared_tokens = store_tokens, shared_tokens
            if granted > 1:
                # Add, never overwrite: concurrent requests of this instance may each have leased tokens
                # from the store, and tokens dropped here would be refused to the customer for nothing.
                lease.tokens += granted - 1
                # From when the tokens arrived, not from when this request started: a slow round trip
                # (a busy instance) must not make a lease expire before anyone could spend it.
                lease.expires = max(lease.expires, self._clock() + LEASE_SECONDS)
        if granted == 0 and shared is not None and store_tokens >= 1:
            return decide(shared_tokens, False, shared.limit, shared.policy)  # the shared bucket said no
        return decide(store_tokens + max(0, granted - 1), granted > 0, limit, policy)

    def _script(self, client: Any) -> Any:
        script = _scripts.get(id(client))
        if script is None:
            script = _scripts.setdefault(id(client), client.register_script(_BUCKET_SCRIPT))
        return script

    def _push(self, client: Any, project: str, fields: tuple[str, str], requests: int, refused: int) -> None:
        if not requests and not refused:
            return
        try:
            pipe = client.pipeline(transaction=False)
            if requests:
                pipe.hincrby(usage_key(project), fields[0], requests)
            if refused:
                pipe.hincrby(usage_key(project), fields[1], refused)
            pipe.execute()
        except Exception as exc:
            from shared.keys.usage import USAGE_STORE_UNAVAILABLE

            USAGE_STORE_UNAVAILABLE.warning("usage store unavailable; counts dropped", error=repr(exc))

    def flush_pending(self, older_than: float = 0.0) -> None:
        """Push usage counted locally (lease spending) of buckets idle for `older_than` seconds."""
        client = redis_client()
        if client is None:
            return
        now = self._clock()
        due: list[tuple[str, tuple[str, str], int, int]] = []
        with self._lock:
            for (project, bucket), lease in list(self._leases.items()):
                if now - lease.touched < older_than:
                    continue
                if lease.fields is not None and (lease.pending_requests or lease.pending_refused):
                    due.append((project, lease.fields, lease.pending_requests, lease.pending_refused))
                    lease.pending_requests = lease.pending_refused = 0
                if now >= lease.expires:  # idle and spent: forget it (bounded memory)
                    del self._leases[(project, bucket)]
        for project, fields, requests, refused in due:
            with project_scope(project):
                self._push(client, project, fields, requests, refused)

    def _start_flusher(self) -> None:
        if self._flusher is not None:
            return
        with self._lock:
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_loop, name="usage-pending", daemon=True)
                self._flusher.start()

    def _flush_loop(self) -> None:
        while True:
            time.sleep(PENDING_FLUSH_SECONDS)
            try:
                self.flush_pending(older_than=LEASE_SECONDS)
            except Exception as exc:  # never let the flusher die
                logs.warning("usage pending flush failed", error=repr(exc))


def usage_key(project: str) -> str:
    from shared.keys.usage import usage_hash_key

    return usage_hash_key(project)


def _usage_args(fields: tuple[str, str] | None, pending: int, refused: int) -> list[Any]:
    if fields is None:
        return ["", 0, "", 0]
    return [fields[0], pending, fields[1], refused]


_limiter = Limiter()


def limiter() -> Limiter:
    return _limiter


def take(
    bucket: str, limit: int, policy: str, usage_fields: tuple[str, str] | None = None
) -> Decision | None:
    return _limiter.take(bucket, limit, policy, usage_fields)


def take_for_key(
    user_id: str,
    key_id: str,
    environment: KeyEnvironment,
    override: int | None,
    usage_fields: tuple[str, str] | None = None,
    account_limit: int | None = None,
) -> Decision | None:
    """A key's request against its own bucket and its account's bucket of the same mode, together (one
    round trip per lease): the key's decision, or the account's when the account is over its limit
    (policy "account"). `account_limit`: the account's limit when not the default (an admin override,
    shared/keys/account_limits.py)."""
    limit = account_limit if account_limit is not None else ACCOUNT_RATE_LIMITS[environment]
    account = SharedBucket(f"account:{user_id}:{environment.value}", limit, "account")
    return _limiter.take(f"key:{key_id}", key_rate_limit(environment, override), "key", usage_fields, account)
