"""Job types as jobs see them: which types exist, their prices and their attempt settings.

A type is a `job_types/{type}` document, the one definition there is: written by the operator (admin API,
shared/workers/job_types.py) or by the seed (shared/workers/catalogue.py: `echo`, and the types migrated from
the former `system/config.job_costs`). A type without a worker (one migrated from `job_costs`) is listed to
the operator but refuses new jobs until it is given one. Read at most every CACHE_SECONDS per instance and
project; a malformed document is logged and left out, never blocking the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.ttl_cache import TtlCache
from shared.models import JobPricing, JobType, MeteredPricing

CACHE_SECONDS = 10.0
TYPE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
# The defaults of the admin API (and of the types the seed makes).
DEFAULT_TIMEOUT_S = 300
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_QUEUE_TIMEOUT_S = 3600
# run_job, which waits for a worker's answer, is an event-driven function: it lives at most 540 s
# (shared/core/function_registry.py). A worker answering in its response gets at most this, leaving the
# dispatcher time to read the job, record the answer and hand out the type's next turn.
MAX_RESPONSE_TIMEOUT_S = 500


@dataclass(frozen=True)
class ResolvedType:
    """A live (not deleted) stored type under its name: what new jobs of it are created with."""

    name: str
    definition: JobType

    @property
    def pricing(self) -> JobPricing:
        return self.definition.pricing

    @property
    def timeout_s(self) -> int:
        return self.definition.timeout_s

    @property
    def max_attempts(self) -> int:
        return self.definition.max_attempts

    @property
    def queue_timeout_s(self) -> int:
        return self.definition.queue_timeout_s

    @property
    def description(self) -> str:
        return self.definition.description

    @property
    def max_concurrency(self) -> int:
        return self.definition.max_concurrency

    @property
    def max_rate_per_s(self) -> float | None:
        return self.definition.max_rate_per_s

    @property
    def has_worker(self) -> bool:
        """False for a type migrated from `job_costs` that has not been given a worker yet."""
        return self.definition.worker_url is not None

    @property
    def metered(self) -> MeteredPricing | None:
        pricing = self.definition.pricing
        return pricing if isinstance(pricing, MeteredPricing) else None


def _load() -> dict[str, JobType]:
    """Every stored type, deleted ones included."""
    defined: dict[str, JobType] = {}
    for snapshot in firestore_client().collection(JobType.collection).stream():
        try:
            defined[snapshot.id] = JobType.from_firestore(snapshot.to_dict())
        except ValueError as exc:
            logs.error("job type document is malformed; ignored", job_type=snapshot.id, detail=str(exc))
    return defined


_catalogs: TtlCache[str, dict[str, JobType]] = TtlCache(CACHE_SECONDS)


def _catalog() -> dict[str, JobType]:
    return _catalogs.get("job_types", lambda _previous: _load())


def forget_cached_types() -> None:
    """After this instance changed a type: its own next read sees the change at once."""
    _catalogs.forget("job_types")


def resolved_type(name: str, definition: JobType) -> ResolvedType:
    return ResolvedType(name=name, definition=definition)


def resolve_job_type(name: str) -> ResolvedType | None:
    """The type new jobs of `name` are created with; None when there is none (or it was deleted)."""
    definition = _catalog().get(name)
    if definition is None or definition.deleted_at is not None:
        return None
    return resolved_type(name, definition)


def stored_job_type(name: str, fresh: bool = False) -> JobType | None:
    """The stored definition of `name`, deleted or not (dispatch: queued jobs of a deleted type still run).
    `fresh` reads it now instead of from the cache."""
    if fresh:
        snapshot = firestore_client().collection(JobType.collection).document(name).get()
        return JobType.from_firestore(snapshot.to_dict()) if snapshot.exists else None
    return _catalog().get(name)


def available_job_types() -> list[ResolvedType]:
    """Every live type, by name (the admin's list; GET /v1/job_types offers those with a worker)."""
    return [resolved_type(n, d) for n, d in sorted(_catalog().items()) if d.deleted_at is None]
