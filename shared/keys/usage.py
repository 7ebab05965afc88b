"""Usage metering per key and UTC day: requests, refusals, jobs created, credits spent (docs/rate-limits.md).

Credits spent are what stayed spent: a failed job's refunded debit is counted apart (`credits_refunded`, on
the day and key of the job's creation) and taken off whenever usage is shown.

Requests are counted by the rate limiter's own round trip to the shared store (one hash field per key, day
and metric); jobs and credits by one more round trip when a job is created. Firestore sees none of this
per request: the scheduled `flush_usage` (every minute) moves the hash to `usage/{keyId}_{day}` documents
with Increment()s, so a key's day document takes at most one write per minute and usage is exact within
about a minute.

Exactly once: the flush renames the live hash to a numbered snapshot (atomically, in the store) and
records it as pending; each batch of Increment()s creates its marker `processed_events/usage-flush:...` in
the same commit, so a flush retried after a crash, or two flushes racing over one snapshot, add each count
once. The snapshot is deleted only after all its batches committed.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.core import logs
from shared.core.clients import current_project, firestore_client, redis_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.markers import Marker
from shared.core.pubsub_events import PubSubMessage
from shared.core.retry import retry_commit
from shared.counters.shards import marker_id
from shared.models import UsageDay, UsageTotals, utc_now

# Usage counts dropped while Redis fails: one line per minute per instance (docs/reliability.md).
USAGE_STORE_UNAVAILABLE = logs.FaultLog("usage_store_unavailable")

METRICS = ("requests", "rate_limited", "jobs_created", "credits_spent")  # as shown
STORED_METRICS = (*METRICS, "credits_refunded")
GROUPS_PER_BATCH = 200  # Firestore takes 500 writes per commit: groups + the totals + the marker
TOTALS_DOCUMENT = "platform"

# KEYS[1]: live hash, KEYS[2]: pending set, KEYS[3]: this flush's snapshot name; ARGV[1]: its id.
_CLAIM_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('SADD', KEYS[2], ARGV[1])
end
return redis.call('SMEMBERS', KEYS[2])
"""


def usage_hash_key(project: str) -> str:
    return f"usage:{project}"


def _pending_key(project: str) -> str:
    return f"usage:{project}:pending"


def _snapshot_key(project: str, flush_id: str) -> str:
    return f"usage:{project}:flush:{flush_id}"


def usage_day(now: datetime | None = None) -> str:
    return (now or utc_now()).date().isoformat()


MODES = {"live": True, "test": False}


def usage_field(user_id: str, key_id: str, metric: str, day: str | None = None, livemode: bool = True) -> str:
    # "|" never occurs in user ids (Firebase uids) or key ids (key_ + hex). The key's mode is the last part:
    # a test key reads test-mode usage only.
    return f"{day or usage_day()}|{user_id}|{key_id}|{metric}|{'live' if livemode else 'test'}"


def request_fields(user_id: str, key_id: str, livemode: bool) -> tuple[str, str]:
    """The fields the rate limiter counts a key's request (and a refusal) in."""
    day = usage_day()
    return (
        usage_field(user_id, key_id, "requests", day, livemode),
        usage_field(user_id, key_id, "rate_limited", day, livemode),
    )


def record_job(user_id: str, key_id: str, credits: int, livemode: bool) -> None:
    """Count a created job and its credits. Metering never fails a job: a store error is logged."""
    client = redis_client()
    if client is None:
        return
    day = usage_day()
    try:
        pipe = client.pipeline(transaction=False)
        pipe.hincrby(
            usage_hash_key(current_project()), usage_field(user_id, key_id, "jobs_created", day, livemode), 1
        )
        if credits > 0:
            pipe.hincrby(
                usage_hash_key(current_project()),
                usage_field(user_id, key_id, "credits_spent", day, livemode),
                credits,
            )
        pipe.execute()
    except Exception as exc:
        USAGE_STORE_UNAVAILABLE.warning("usage store unavailable; counts dropped", error=repr(exc))


# Counts a job's given-back credits once per job: the trigger that counts them may run more than once.
_COUNT_ONCE_SCRIPT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  return redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])
end
return false
"""
GIVEN_BACK_MARKER_TTL_S = 7 * 24 * 3600  # longer than a trigger is redelivered (24 h)


def record_job_refund(job_id: str, user_id: str, key_id: str, credits: int, created_at: datetime) -> None:
    """Count a finished job's given-back credits (a refund, a metered job's unused reservation) against the
    day its debit was counted on, once per job (a marker beside the count, in one script). A store error
    is logged, as for the debit."""
    client = redis_client()
    if client is None or credits <= 0:
        return
    project = current_project()
    field = usage_field(user_id, key_id, "credits_refunded", usage_day(created_at))
    try:
        client.eval(
            _COUNT_ONCE_SCRIPT,
            2,
            f"{usage_hash_key(project)}:given-back:{job_id}",
            usage_hash_key(project),
            field,
            str(credits),
            str(GIVEN_BACK_MARKER_TTL_S),
        )
    except Exception as exc:
        USAGE_STORE_UNAVAILABLE.warning("usage store unavailable; counts dropped", error=repr(exc))


@dataclass(frozen=True)
class Group:
    day: str
    user_id: str
    key_id: str
    counts: dict[str, int]
    livemode: bool = True


def parse_snapshot(data: dict[bytes, bytes] | dict[str, str]) -> list[Group]:
    """The hash's fields grouped by (day, user, key), in a stable order (batches are numbered by it)."""
    grouped: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    modes: dict[tuple[str, str, str], bool] = {}
    for raw_field, raw_value in data.items():
        field = raw_field.decode() if isinstance(raw_field, bytes) else raw_field
        parts = field.split("|")
        # Four parts: counted before fields named the mode; counted as live (hidden from test keys).
        mode = parts[4] if len(parts) == 5 else "live"
        if len(parts) not in (4, 5) or parts[3] not in STORED_METRICS or mode not in MODES:
            logs.warning("unknown usage field skipped", field=field)
            continue
        day, user_id, key_id, metric = parts[:4]
        grouped[(day, user_id, key_id)][metric] = int(raw_value)
        modes[(day, user_id, key_id)] = MODES[mode]
    return [Group(d, u, k, counts, modes[(d, u, k)]) for (d, u, k), counts in sorted(grouped.items())]


def usage_ref(key_id: str, day: str, db: firestore.Client | None = None) -> firestore.DocumentReference:
    return (db or firestore_client()).collection(UsageDay.collection).document(f"{key_id}_{day}")


def _apply_batch(flush_id: str, number: int, groups: list[Group]) -> bool:
    """One commit: the groups' Increment()s, the platform totals and the batch's marker. False when the
    marker existed (an earlier or concurrent flush applied this batch)."""
    db = firestore_client()
    now = utc_now()
    totals: dict[str, int] = dict.fromkeys(STORED_METRICS, 0)
    batch = db.batch()
    for group in groups:
        fields: dict[str, Any] = {
            "user_id": group.user_id,
            "key_id": group.key_id,
            "day": group.day,
            "livemode": group.livemode,
        }
        for metric, count in group.counts.items():
            fields[metric] = firestore.Increment(count)
            totals[metric] += count
        fields["updated_at"] = now
        batch.set(usage_ref(group.key_id, group.day, db), fields, merge=True)
    batch.set(
        db.collection(UsageTotals.collection).document(TOTALS_DOCUMENT),
        {m: firestore.Increment(c) for m, c in totals.items() if c},
        merge=True,
    )
    flush_marker = Marker(marker_id("usage-flush", f"{flush_id}:{number}"), "usage-flush", "usage.flush")
    flush_marker.add_to(batch, db)
    try:
        batch.commit()
    except AlreadyExists:
        return False
    return True


def flush_usage() -> int:
    """Move this project's usage counts from the store to Firestore; returns the groups applied."""
    client = redis_client()
    if client is None:
        return 0
    project = current_project()
    flush_id = f"{int(time.time() * 1000)}-{secrets.token_hex(4)}"
    pending: Any = client.eval(
        _CLAIM_SCRIPT,
        3,
        usage_hash_key(project),
        _pending_key(project),
        _snapshot_key(project, flush_id),
        flush_id,
    )
    applied = 0
    for raw_id in sorted(pending):  # older snapshots (a crashed flush's) first
        pending_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        snapshot: Any = client.hgetall(_snapshot_key(project, pending_id))
        groups = parse_snapshot(snapshot)
        for number, start in enumerate(range(0, len(groups), GROUPS_PER_BATCH)):
            chunk = groups[start : start + GROUPS_PER_BATCH]
            if retry_commit(partial(_apply_batch, pending_id, number, chunk), what="usage flush"):
                applied += len(chunk)
        client.delete(_snapshot_key(project, pending_id))
        client.srem(_pending_key(project), pending_id)
    return applied


@dataclass(frozen=True)
class UsageScope:
    """Whose usage, which days, and which page: `key_id` one key; `test_only` a test key's view."""

    user_id: str
    key_id: str | None
    first: date
    last: date
    test_only: bool = False


def _usage_query(query: UsageScope) -> firestore.Query:
    """The scope's documents by day, then by document id (the tie-breaker cursors resume after)."""
    collection = firestore_client().collection(UsageDay.collection)
    if query.key_id is not None:
        # Index: key_id ASC, day ASC (firestore.indexes.json).
        found = collection.where(filter=firestore.FieldFilter("key_id", "==", query.key_id))
    elif query.test_only:
        # Index: user_id ASC, livemode ASC, day ASC.
        found = collection.where(filter=firestore.FieldFilter("user_id", "==", query.user_id)).where(
            filter=firestore.FieldFilter("livemode", "==", False)
        )
    else:
        # Index: user_id ASC, day ASC.
        found = collection.where(filter=firestore.FieldFilter("user_id", "==", query.user_id))
    in_range = found.where(filter=firestore.FieldFilter("day", ">=", query.first.isoformat())).where(
        filter=firestore.FieldFilter("day", "<=", query.last.isoformat())
    )
    return in_range.order_by("day").order_by("__name__")


def read_usage_page(
    query: UsageScope, limit: int, starting_after: str | None
) -> tuple[list[UsageDay], str | None]:
    """One page of the usage days, by day then document (`{keyId}_{day}`); the cursor of the next page or
    None. Bounded: at most `limit` documents are read, whatever the account's history."""
    found = _usage_query(query)
    if starting_after is not None:
        cursor = firestore_client().collection(UsageDay.collection).document(starting_after).get()
        data = cursor.to_dict() or {}
        if not cursor.exists or data.get("user_id") != query.user_id:
            raise ApiError(
                ErrorCode.PARAMETER_INVALID,
                "starting_after names no object of yours.",
                param="starting_after",
            )
        found = found.start_after(cursor)
    snapshots = list(found.limit(limit + 1).stream())
    days = [UsageDay.from_firestore(s.to_dict()) for s in snapshots[:limit]]
    # A key's documents carry its owner; a key filter (key_id) is checked to be the caller's before this.
    days = [d for d in days if d.user_id == query.user_id and not (query.test_only and d.livemode)]
    next_cursor = snapshots[limit - 1].id if len(snapshots) > limit else None
    return days, next_cursor


def shown_usage(counts: UsageDay | UsageTotals) -> dict[str, int]:
    """The metrics as shown: credits spent less those refunded (never below 0: a debit whose count was
    lost to a store outage must not make its refund show as negative spending)."""
    shown = {m: int(getattr(counts, m)) for m in METRICS}
    shown["credits_spent"] = max(0, counts.credits_spent - counts.credits_refunded)
    return shown


def sum_usage(days: Iterable[UsageDay]) -> dict[str, int]:
    totals = dict.fromkeys(METRICS, 0)
    for day in days:
        for metric, count in shown_usage(day).items():
            totals[metric] += count
    return totals


def read_usage_totals() -> dict[str, int]:
    snapshot = firestore_client().collection(UsageTotals.collection).document(TOTALS_DOCUMENT).get()
    return shown_usage(UsageTotals.from_firestore(snapshot.to_dict()) if snapshot.exists else UsageTotals())


def handle_flush_usage(message: PubSubMessage) -> int:
    """`flush_usage`: a tick (its content does not matter)."""
    return flush_usage()
