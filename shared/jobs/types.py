"""Job types as jobs see them: which types exist, their prices and their attempt settings.

A type is a `job_types/{type}` document written by the operator (admin API, shared/workers/job_types.py).
For existing data, `system/config.job_costs` keeps working: a type named there without a document is a
*legacy* type, priced by `job_costs` (or `default_job_cost`), with the default settings and no worker (its
jobs are left to whatever ran them before, and end by the rules: expired after `queue_timeout_s`,
refunded). `echo` is built in: without a document it is a legacy type until its first dispatch registers
the built-in worker (shared/workers/echo.py). Migration: docs/jobs.md.

Both sources are read at most every CACHE_SECONDS per instance and project; a missing or malformed config
never blocks jobs (the model's defaults apply; a malformed one is logged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.ttl_cache import TtlCache
from shared.jobs.turns import DEFAULT_MAX_CONCURRENCY
from shared.models import DEFAULT_JOB_COSTS, FixedPricing, JobPricing, JobType, MeteredPricing

CACHE_SECONDS = 10.0
ECHO_JOB_TYPE = "echo"
TYPE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
_CONFIG_FIELDS = ["job_costs", "default_job_cost"]
# The settings of legacy types (and the defaults of the admin API).
DEFAULT_TIMEOUT_S = 300
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_QUEUE_TIMEOUT_S = 3600
# run_job, which waits for a worker's answer, is an event-driven function: it lives at most 540 s
# (shared/core/function_registry.py). A worker answering in its response gets at most this, leaving the
# dispatcher time to read the job, record the answer and hand out the type's next turn.
MAX_RESPONSE_TIMEOUT_S = 500
ECHO_TIMEOUT_S = 10  # the built-in echo answers at once: a lost attempt is retried soon


class _LegacyPricingFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_costs: dict[str, Annotated[int, Field(ge=0, strict=True)]] = Field(
        default_factory=lambda: dict(DEFAULT_JOB_COSTS)
    )
    default_job_cost: Annotated[int, Field(ge=0, strict=True)] = 1


@dataclass(frozen=True)
class ResolvedType:
    """A type a job can be created with: its price and settings, and its stored definition (None for a
    legacy type)."""

    name: str
    pricing: JobPricing
    timeout_s: int
    max_attempts: int
    queue_timeout_s: int
    description: str
    definition: JobType | None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_rate_per_s: float | None = None

    @property
    def has_worker(self) -> bool:
        return self.definition is not None or self.name == ECHO_JOB_TYPE

    @property
    def metered(self) -> MeteredPricing | None:
        return self.pricing if isinstance(self.pricing, MeteredPricing) else None


@dataclass(frozen=True)
class _Catalog:
    defined: dict[str, JobType]  # every stored type, deleted ones included
    job_costs: dict[str, int]
    default_job_cost: int


def _legacy_pricing() -> tuple[dict[str, int], int]:
    from shared.system.config import config_ref

    snapshot = config_ref().get(field_paths=_CONFIG_FIELDS)
    if not snapshot.exists:
        defaults = _LegacyPricingFields()
        return defaults.job_costs, defaults.default_job_cost
    try:
        fields = _LegacyPricingFields.model_validate(snapshot.to_dict() or {})
    except ValidationError as exc:
        logs.error("system/config job pricing is malformed; using defaults", detail=str(exc))
        fields = _LegacyPricingFields()
    return fields.job_costs, fields.default_job_cost


def _load() -> _Catalog:
    defined: dict[str, JobType] = {}
    for snapshot in firestore_client().collection(JobType.collection).stream():
        try:
            defined[snapshot.id] = JobType.from_firestore(snapshot.to_dict())
        except ValueError as exc:
            logs.error("job type document is malformed; ignored", job_type=snapshot.id, detail=str(exc))
    job_costs, default_job_cost = _legacy_pricing()
    return _Catalog(defined, job_costs, default_job_cost)


_catalogs: TtlCache[str, _Catalog] = TtlCache(CACHE_SECONDS)


def _catalog() -> _Catalog:
    return _catalogs.get("job_types", lambda _previous: _load())


def forget_cached_types() -> None:
    """After this instance changed a type: its own next read sees the change at once."""
    _catalogs.forget("job_types")


def resolved_type(name: str, definition: JobType) -> ResolvedType:
    return ResolvedType(
        name=name,
        pricing=definition.pricing,
        timeout_s=definition.timeout_s,
        max_attempts=definition.max_attempts,
        queue_timeout_s=definition.queue_timeout_s,
        description=definition.description,
        definition=definition,
        max_concurrency=definition.max_concurrency,
        max_rate_per_s=definition.max_rate_per_s,
    )


def _legacy(name: str, credits: int) -> ResolvedType:
    return ResolvedType(
        name=name,
        pricing=FixedPricing(credits=credits),
        timeout_s=ECHO_TIMEOUT_S if name == ECHO_JOB_TYPE else DEFAULT_TIMEOUT_S,
        max_attempts=DEFAULT_MAX_ATTEMPTS,
        queue_timeout_s=DEFAULT_QUEUE_TIMEOUT_S,
        description="Returns its input as its result." if name == ECHO_JOB_TYPE else "",
        definition=None,
    )


def resolve_job_type(name: str) -> ResolvedType | None:
    """The type new jobs of `name` are created with; None when there is none (or it was deleted)."""
    catalog = _catalog()
    definition = catalog.defined.get(name)
    if definition is not None:
        return None if definition.deleted_at is not None else resolved_type(name, definition)
    if name in catalog.job_costs:
        return _legacy(name, catalog.job_costs[name])
    if name == ECHO_JOB_TYPE:
        return _legacy(name, catalog.default_job_cost)
    return None


def stored_job_type(name: str, fresh: bool = False) -> JobType | None:
    """The stored definition of `name`, deleted or not (dispatch: queued jobs of a deleted type still run).
    `fresh` reads it now instead of from the cache."""
    if fresh:
        snapshot = firestore_client().collection(JobType.collection).document(name).get()
        return JobType.from_firestore(snapshot.to_dict()) if snapshot.exists else None
    return _catalog().defined.get(name)


def available_job_types() -> list[ResolvedType]:
    """Every type new jobs may use, by name (GET /v1/job_types)."""
    catalog = _catalog()
    names = {n for n, d in catalog.defined.items() if d.deleted_at is None}
    names |= {n for n in catalog.job_costs if n not in catalog.defined}
    if ECHO_JOB_TYPE not in catalog.defined:
        names.add(ECHO_JOB_TYPE)
    return [t for t in (resolve_job_type(n) for n in sorted(names)) if t is not None]
