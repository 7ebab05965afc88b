"""Flow control per job type, kept in Redis (docs/workers.md, "Flow control"): which waiting jobs may be
dispatched now, within the type's `max_concurrency` (attempts in flight at its worker over every instance),
its `max_rate_per_s` and its pause after a "not now", taking fair turns between customers
(shared/jobs/turns.py says the rules; one Lua script applies them atomically).

Per type (keys `jobflow:{project/type}:...`, one hash slot): the ring of customers with waiting jobs, each
customer's waiting jobs, the set of jobs known to the type (waiting or holding a slot: a duplicate message
changes nothing), the slots (a sorted set of job ids by lease end: a holder that dies frees its slot when the
lease ends), the pause and the next time the rate allows. Nothing here polls: a job's message admits it (and
may grant turns), a finished attempt releases its slot and grants the next turns, and the granted jobs are
published to the dispatchers. Firestore stays the truth: a job whose turn was lost (Redis restarted, a grant's
message lost) is still queued with its `sweep_at`, and the sweep hands it in again (shared/jobs/sweep.py).
Every key expires after IDLE_TTL without use: an idle type costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.core.clients import current_project, redis_client
from shared.jobs.callback_rules import ACCEPT_TIMEOUT_S
from shared.jobs.turns import rate_interval_ms
from shared.models import Job, JobCompletion, JobType

IDLE_TTL = timedelta(days=8)
# How many turns one call hands out at most (the rest are handed out as those attempts end).
MAX_GRANTS_PER_CALL = 20
# A slot is held at most the attempt's timeout plus this (a dispatcher that died frees it by then).
LEASE_GRACE = timedelta(seconds=30)
# A pump that stops keeping its claim (its instance died) is replaced after this.
PUMP_LEASE = timedelta(seconds=10)

_STEP_SCRIPT = """
local ring, known, slots, pause, nextat, notnow = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local now = tonumber(ARGV[1])
local admit, customer, release = ARGV[2], ARGV[3], ARGV[4]
local put_back, pause_ms = ARGV[5], tonumber(ARGV[6])
local max_slots, lease, interval = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local max_grants, prefix, ttl = tonumber(ARGV[10]), ARGV[11], tonumber(ARGV[12])
if release ~= '' then
  redis.call('ZREM', slots, release)
  redis.call('SREM', known, release)
  redis.call('DEL', notnow)
end
if put_back ~= '' then
  redis.call('ZREM', slots, put_back)
  redis.call('SADD', known, put_back)
  local wait = prefix .. customer
  if redis.call('LPUSH', wait, put_back) == 1 then redis.call('LPUSH', ring, customer) end
  redis.call('PEXPIRE', wait, ttl)
  if pause_ms > 0 then redis.call('SET', pause, '1', 'PX', pause_ms) end
end
if admit ~= '' and redis.call('SADD', known, admit) == 1 then
  local wait = prefix .. customer
  if redis.call('RPUSH', wait, admit) == 1 then redis.call('RPUSH', ring, customer) end
  redis.call('PEXPIRE', wait, ttl)
end
local expired = redis.call('ZRANGEBYSCORE', slots, '-inf', now)
for _, job in ipairs(expired) do redis.call('SREM', known, job) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', slots, '-inf', now) end
local granted = {}
local wait_ms = 0
local paused = redis.call('PTTL', pause)
if paused > 0 then
  wait_ms = paused
else
  while #granted < max_grants and redis.call('ZCARD', slots) < max_slots do
    local next_customer = redis.call('LPOP', ring)
    if not next_customer then break end
    if interval > 0 then
      local at = tonumber(redis.call('GET', nextat) or '0')
      if now < at then
        redis.call('LPUSH', ring, next_customer)
        wait_ms = at - now
        break
      end
      redis.call('SET', nextat, tostring(math.max(at, now) + interval), 'PX', ttl)
    end
    local wait = prefix .. next_customer
    local job = redis.call('LPOP', wait)
    if job then
      if redis.call('LLEN', wait) > 0 then
        redis.call('RPUSH', ring, next_customer)
        redis.call('PEXPIRE', wait, ttl)
      end
      redis.call('ZADD', slots, now + lease, job)
      table.insert(granted, job)
    end
  end
end
for _, key in ipairs({ring, known, slots}) do redis.call('PEXPIRE', key, ttl) end
local result = {wait_ms, redis.call('LLEN', ring), redis.call('ZCARD', slots)}
for _, job in ipairs(granted) do table.insert(result, job) end
return result
"""

_scripts: dict[int, Any] = {}


@dataclass(frozen=True)
class TypeLimits:
    """What flow control needs of a type (its stored settings)."""

    job_type: str
    max_concurrency: int
    max_rate_per_s: float | None
    timeout_s: int


def limits_of(job: Job, worker: JobType) -> TypeLimits:
    """The flow control of the job's type, from its stored settings (the job's own timeout when longer)."""
    return TypeLimits(
        job_type=job.type,
        max_concurrency=worker.max_concurrency,
        max_rate_per_s=worker.max_rate_per_s,
        # A callback attempt holds its slot only until the worker accepts it (docs/workers.md, Flow control).
        timeout_s=math.ceil(ACCEPT_TIMEOUT_S)
        if job.completion is JobCompletion.CALLBACK
        else max(worker.timeout_s, job.timeout_s),
    )


@dataclass(frozen=True)
class Turns:
    granted: list[str]  # jobs whose turn it is now: each holds a slot
    wait_ms: int  # > 0: the type is paused or rate-limited this long, and jobs wait
    customers_waiting: int
    in_flight: int


def _keys(job_type: str) -> tuple[list[str], str]:
    tag = f"jobflow:{{{current_project()}/{job_type}}}"
    names = ("ring", "known", "slots", "pause", "next_at", "not_now")
    return [f"{tag}:{name}" for name in names], f"{tag}:wait:"


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def available() -> bool:
    """Flow control needs the shared store; without one (local runs without REDIS_URL) jobs go straight
    to their workers. Production requires it (shared/core/settings.py)."""
    return redis_client() is not None


def _step(
    limits: TypeLimits,
    now: datetime,
    *,
    admit: str = "",
    customer: str = "",
    release: str = "",
    put_back: str = "",
    pause: timedelta = timedelta(0),
    max_grants: int = MAX_GRANTS_PER_CALL,
) -> Turns:
    client = redis_client()
    assert client is not None, "flow control without its store"
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts.setdefault(id(client), client.register_script(_STEP_SCRIPT))
    keys, prefix = _keys(limits.job_type)
    lease = timedelta(seconds=limits.timeout_s) + LEASE_GRACE
    answer = script(
        keys=keys,
        args=[
            _ms(now),
            admit,
            customer,
            release,
            put_back,
            int(pause.total_seconds() * 1000),
            limits.max_concurrency,
            int(lease.total_seconds() * 1000),
            rate_interval_ms(limits.max_rate_per_s),
            max_grants,
            prefix,
            int(IDLE_TTL.total_seconds() * 1000),
        ],
    )
    wait_ms, customers, in_flight, *granted = answer
    return Turns(
        granted=[g.decode() if isinstance(g, bytes) else str(g) for g in granted],
        wait_ms=int(wait_ms),
        customers_waiting=int(customers),
        in_flight=int(in_flight),
    )


def admit(limits: TypeLimits, job_id: str, customer: str, now: datetime) -> Turns:
    """The job waits for its turn (once, however often it is admitted); nothing is granted (the type's
    pump grants: `claim_pump`)."""
    return _step(limits, now, admit=job_id, customer=customer, max_grants=0)


def release(limits: TypeLimits, job_id: str, now: datetime) -> Turns:
    """The job's attempt ended (or it was granted a turn it could not use): its slot is free; the turns due
    now are granted."""
    return _step(limits, now, release=job_id)


def grant(limits: TypeLimits, now: datetime) -> Turns:
    """Only hand out the turns due now (after a pause or the rate's wait)."""
    return _step(limits, now)


def not_now_in_a_row(limits: TypeLimits) -> int:
    """Count one more "not now" of the type's worker; returns how many in a row (reset by a counted answer)."""
    client = redis_client()
    assert client is not None
    keys, _ = _keys(limits.job_type)
    pipeline = client.pipeline()
    pipeline.incr(keys[5])
    pipeline.pexpire(keys[5], int(IDLE_TTL.total_seconds() * 1000))
    count, _ = pipeline.execute()
    return int(count)


def put_back(limits: TypeLimits, job_id: str, customer: str, pause: timedelta, now: datetime) -> Turns:
    """The worker said "not now": the job is first in its customer's line again, and the type pauses."""
    return _step(limits, now, put_back=job_id, customer=customer, pause=pause)


_FREE_PUMP_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_free_scripts: dict[int, Any] = {}


def _pump_key(limits: TypeLimits) -> str:
    keys, _ = _keys(limits.job_type)
    return keys[0] + ":pump"


def claim_pump(limits: TypeLimits, token: str) -> bool:
    """Become the type's one pump (the invocation that grants its turns and runs them), unless another is;
    the claim lasts PUMP_LEASE unless kept."""
    client = redis_client()
    assert client is not None
    return bool(client.set(_pump_key(limits), token, nx=True, px=int(PUMP_LEASE.total_seconds() * 1000)))


def keep_pump(limits: TypeLimits) -> None:
    client = redis_client()
    assert client is not None
    client.pexpire(_pump_key(limits), int(PUMP_LEASE.total_seconds() * 1000))


def free_pump(limits: TypeLimits, token: str) -> None:
    client = redis_client()
    assert client is not None
    script = _free_scripts.get(id(client))
    if script is None:
        script = _free_scripts.setdefault(id(client), client.register_script(_FREE_PUMP_SCRIPT))
    script(keys=[_pump_key(limits)], args=[token])


def known_count(job_type: str) -> int:
    """How many jobs the type knows (waiting for their turn or holding a slot): operators' figures, tests."""
    client = redis_client()
    assert client is not None
    keys, _ = _keys(job_type)
    count: Any = client.scard(keys[1])  # redis-py's types also allow its asyncio client's answer
    return int(count)


def is_known(job_type: str, job_id: str) -> bool:
    """Whether the type knows the job (it was handed in and waits for its turn or holds a slot)."""
    client = redis_client()
    assert client is not None
    keys, _ = _keys(job_type)
    member: Any = client.sismember(keys[1], job_id)  # redis-py's types also allow its asyncio client's answer
    return bool(member)
