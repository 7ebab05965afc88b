"""The job types a project starts with, and the migration of the former `system/config.job_costs`: one
idempotent seed, run by `make dev` and the test and bench stacks for each project, and by the operator on a
deployed project (`python -m shared.workers.catalogue --project P`; docs/jobs.md).

Stored types (`job_types/{type}`) are the only definition of a job type. The seed:
1. migrates `job_costs`: each entry becomes a stored type of that fixed price, with the default settings
   and no worker (`worker_url: null`); its jobs are refused at creation (400, `param=type`) until the
   operator gives it a worker with `PUT /v1/admin/job_types/{type}` (201 with the type's first
   `worker_secret`). An entry already stored (live or deleted) is left as it is: the stored type already
   won over `job_costs`. An entry that cannot be a type (a name the admin API cannot address, or a price
   that is not a whole number >= 0) is dropped and logged. `job_costs.echo` (or `default_job_cost` when
   `job_costs` names no echo) prices the seeded `echo` instead, as it priced the built-in echo. Then both fields are removed from
   system/config, in a write preconditioned on the read (a concurrent edit makes the seed read again).
2. creates `echo` when it is missing: the platform's own echo worker (`echo_worker`, in this project) with a
   secret of its own, as any operator type is stored; `test_jobs: worker`.
Every write is a `create()` (an existing type, including the operator's changes to `echo` or its deletion,
is never overwritten), so running it again, or twice at once, changes nothing.

Why a migrated entry keeps existing without a worker rather than being dropped: nothing ran a `job_costs`
type's jobs (they were debited, then expired an hour later and were refunded) unless the operator had a
process of their own driving them, so refusing them at once is what customers are better served by. An
operator upgrading expects their catalogue to survive the migration: the type stays in the admin list with
its price and says it needs a worker, instead of vanishing into a log line with its price gone.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client, project_scope
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.jobs.types import forget_cached_types
from shared.models import FixedPricing, JobTestMode, JobType, utc_now
from shared.outbound.signing import generate_signing_secret
from shared.system.config import config_ref
from shared.workers.echo import ECHO_JOB_TYPE
from shared.workers.job_types import function_url, valid_type_name

ECHO_WORKER_FUNCTION = "echo_worker"
ECHO_DESCRIPTION = "Returns its input as its result (the platform's built-in worker)."
SEEDED_PRICE = 1  # of a seeded type, without job_costs to say otherwise
ECHO_TIMEOUT_S = 10  # the echo worker answers at once: a lost attempt is retried soon
LEGACY_FIELDS = ("job_costs", "default_job_cost")


@dataclass(frozen=True)
class MigrationPlan:
    """What `job_costs` becomes, decided from the stored fields and the names already stored (pure)."""

    create: dict[str, int]  # new types without a worker: name -> fixed price
    seeded_prices: dict[str, int]  # the price each seeded type is created with, when it is missing
    kept: list[str] = field(default_factory=list)  # already stored: the stored type stands
    dropped: dict[str, str] = field(default_factory=dict)  # name -> why it cannot be a type
    remove_fields: bool = False  # system/config still holds job_costs or default_job_cost


def _price(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def plan_migration(
    fields: Mapping[str, Any] | None, stored: Iterable[str], seeded: Iterable[str] = ()
) -> MigrationPlan:
    """`fields`: system/config's `job_costs` and `default_job_cost` as stored (None: no document);
    `stored`: the names of the stored types, deleted ones included; `seeded`: the types the seed makes
    (their entry, or else `default_job_cost`, prices them, as job_costs priced the built-in type). Each entry
    is judged on its own."""
    fields = fields or {}
    present = [name for name in LEGACY_FIELDS if name in fields]
    stored_names = set(stored)
    raw_costs = fields.get("job_costs", {})
    dropped: dict[str, str] = {}
    if not isinstance(raw_costs, Mapping):
        dropped["job_costs"] = "job_costs is not a map of type names to prices"
        raw_costs = {}
    default = _price(fields.get("default_job_cost", SEEDED_PRICE))
    if default is None:
        dropped["default_job_cost"] = "default_job_cost is not a whole number >= 0"
        default = SEEDED_PRICE
    seeded_prices = dict.fromkeys(seeded, default)
    create: dict[str, int] = {}
    kept: list[str] = []
    for name, value in sorted((str(k), v) for k, v in raw_costs.items()):
        price = _price(value)
        if price is None:
            dropped[str(name)] = "its price is not a whole number >= 0"
        elif name in seeded_prices:
            seeded_prices[name] = price
        elif not valid_type_name(name):
            dropped[str(name)] = "the admin API cannot address the name (a-z, 0-9, '_', '-'; at most 64)"
        elif name in stored_names:
            kept.append(name)
        else:
            create[name] = price
    return MigrationPlan(create, seeded_prices, kept, dropped, remove_fields=bool(present))


def legacy_type(price: int, now: datetime) -> JobType:
    """A migrated `job_costs` entry: its price, the default settings, no worker. Its secret is replaced
    (and shown) when the operator gives it a worker."""
    return JobType(
        worker_url=None,
        description="Migrated from system/config.job_costs: give it a worker to accept jobs.",
        pricing=FixedPricing(credits=price),
        secret=generate_signing_secret(),
        created_at=now,
        updated_at=now,
    )


def echo_type(worker_url: str, price: int, now: datetime) -> JobType:
    return JobType(
        worker_url=worker_url,
        description=ECHO_DESCRIPTION,
        pricing=FixedPricing(credits=price),
        timeout_s=ECHO_TIMEOUT_S,
        test_jobs=JobTestMode.WORKER,  # echo is served by its worker in both modes
        secret=generate_signing_secret(),
        created_at=now,
        updated_at=now,
    )


# The types every project starts with: name -> its definition from (the platform's echo worker URL, price,
# now). Migration and seed handle them alike; only their definitions differ.
SEEDED: dict[str, Callable[[str, int, datetime], JobType]] = {ECHO_JOB_TYPE: echo_type}


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)  # echo included when it was missing
    kept: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    removed_job_costs: bool = False


def _create(ref: firestore.DocumentReference, job_type: JobType) -> bool:
    try:
        ref.create(job_type.to_firestore())
        return True
    except AlreadyExists:
        return False


def seed_job_types(echo_worker_url: str | None = None) -> SeedReport:
    """Migrate `job_costs` and create `echo` when missing, in the current project (idempotent).
    `echo_worker_url`: the platform's echo worker, this project's `echo_worker` function by default."""
    db = firestore_client()
    types = db.collection(JobType.collection)
    url = echo_worker_url or function_url(ECHO_WORKER_FUNCTION)

    def attempt() -> tuple[MigrationPlan, SeedReport]:
        snapshot = config_ref(db).get(field_paths=list(LEGACY_FIELDS))
        fields = snapshot.to_dict() if snapshot.exists else None
        plan = plan_migration(fields, [ref.id for ref in types.list_documents()], SEEDED)
        report = SeedReport(kept=list(plan.kept), dropped=plan.dropped, removed_job_costs=plan.remove_fields)
        now = utc_now()
        for name, price in plan.create.items():
            made = _create(types.document(name), legacy_type(price, now))
            (report.created if made else report.kept).append(name)
        for name, make in SEEDED.items():
            if _create(types.document(name), make(url, plan.seeded_prices[name], now)):
                report.created.append(name)
        if plan.remove_fields:
            config_ref(db).update(
                {name: firestore.DELETE_FIELD for name in LEGACY_FIELDS},
                option=db.write_option(last_update_time=snapshot.update_time),
            )
        return plan, report

    try:
        plan, report = retry_commit(
            attempt, what="job types while seeding them", retry_on=RETRYABLE_COMMIT_ERRORS
        )
    finally:
        forget_cached_types()
    for name, why in plan.dropped.items():
        logs.error("job_costs entry not migrated to a job type; dropped", job_type=name, reason=why)
    if report.created or plan.remove_fields:
        logs.info(
            "job types seeded",
            created=report.created,
            kept=report.kept,
            dropped=sorted(plan.dropped),
            removed_job_costs=plan.remove_fields,
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Seed the job types of a project (echo; job_costs migrated)."
    )
    parser.add_argument("--project", required=True)
    parser.add_argument(
        "--echo-worker-url", default=None, help="the project's echo_worker function (default: derived)"
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9-]{4,61}[a-z0-9]", args.project):
        parser.error(f"not a project id: {args.project!r}")
    with project_scope(args.project):
        report = seed_job_types(args.echo_worker_url)
    print(
        f"job types of {args.project}: created {report.created or 'none'}, kept {report.kept or 'none'}, "
        f"dropped {sorted(report.dropped) or 'none'}, job_costs "
        f"{'removed from system/config' if report.removed_job_costs else 'absent'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
