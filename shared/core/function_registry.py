"""The one declaration of the platform's functions: each one's name (also its entry point in
`functions/main.py`), trigger (HTTP, a Firestore document event, a Pub/Sub topic, a schedule), handler
("module:function", imported when the instance starts; it takes a flask request, a `DocumentChange` or a
`PubSubMessage`) and scaling. `functions/main.py`, the local functions host and deployment are all made
from exactly these, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FunctionKind(StrEnum):
    HTTP = "http"
    FIRESTORE = "firestore"
    PUBSUB = "pubsub"


class FirestoreEventType(StrEnum):
    CREATED = "google.cloud.firestore.document.v1.created"
    UPDATED = "google.cloud.firestore.document.v1.updated"
    DELETED = "google.cloud.firestore.document.v1.deleted"
    WRITTEN = "google.cloud.firestore.document.v1.written"


class Identity(StrEnum):
    """The runtime service account a function runs as (least privilege; roles in localdev/deploy.py).
    The identities that call outside URLs (OUTSIDE_CALLERS) hold no secret: `webhook-sender` calls customer
    URLs with nothing but Firestore access; `job-sender` calls operators' workers with nothing at all."""

    API = "api"
    STRIPE_EVENTS = "stripe-events"
    WORKERS = "workers"
    WEBHOOK_SENDER = "webhook-sender"
    # The public echo worker: reads the echo type's secrets, nothing else (no writes, topics or secrets).
    ECHO_WORKER = "echo-worker"
    # send_to_worker: POSTs what run_job signed to operators' workers; no role, no secret, no Redis.
    JOB_SENDER = "job-sender"


# What these identities hold, a hostile receiver could one day learn (a redirect, a bug): so they hold neither
# Stripe nor Redis secrets (nor the VPC connector to Redis).
OUTSIDE_CALLERS = frozenset({Identity.WEBHOOK_SENDER, Identity.JOB_SENDER})


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # deployed name and entry point; also the local URL segment for HTTP functions
    handler: str  # "module:function" that does the work
    kind: FunctionKind
    document: str | None = None  # Firestore document pattern, e.g. "jobs/{jobId}"
    event_type: FirestoreEventType | None = None
    topic: str | None = None  # Pub/Sub topic (name without project)
    schedule: str | None = None  # cron; a scheduler job publishes to `topic` on this schedule
    timeout_s: int = 60
    memory: str = "256Mi"
    identity: Identity = Identity.WORKERS
    calls_stripe: bool = False  # the Stripe secrets are mounted on these functions only
    # The store of rate limits and usage (Redis, Memorystore): its URL and CA, and the VPC connector that
    # reaches it, are given to these functions only.
    uses_redis: bool = False
    # An HTTP function that only this identity may invoke (run.invoker on it), on internal ingress: not
    # public. None: public (it authenticates its callers itself).
    invoked_by: Identity | None = None
    # It calls a function of ours on internal ingress: all its egress goes through the VPC connector (whose
    # subnet has Private Google Access), the only way a call between functions counts as internal.
    calls_internal_functions: bool = False
    # Scaling (docs/capacity.md derives each value): requests served at once per instance, vCPUs per
    # instance (more than one request at once needs a whole vCPU), and the instance bounds.
    concurrency: int = 1
    cpu: str = "0.167"
    max_instances: int = 100
    min_instances: int = 0

    def __post_init__(self) -> None:
        if self.kind is FunctionKind.FIRESTORE and (self.document is None or self.event_type is None):
            raise ValueError(f"{self.name}: a Firestore trigger needs a document pattern and an event type")
        if self.kind is FunctionKind.PUBSUB and self.topic is None:
            raise ValueError(f"{self.name}: a Pub/Sub function needs a topic")
        if self.schedule is not None and self.kind is not FunctionKind.PUBSUB:
            raise ValueError(f"{self.name}: only Pub/Sub functions can be scheduled")
        if self.concurrency > 1 and float(self.cpu) < 1:
            raise ValueError(f"{self.name}: concurrency above 1 needs at least 1 vCPU")
        if not 0 <= self.min_instances <= self.max_instances:
            raise ValueError(f"{self.name}: min_instances must be within 0..max_instances")
        if self.invoked_by is not None and self.kind is not FunctionKind.HTTP:
            raise ValueError(f"{self.name}: only HTTP functions are invoked by an identity of ours")
        if self.identity in OUTSIDE_CALLERS and (
            self.calls_stripe or self.uses_redis or self.calls_internal_functions
        ):
            # It sends requests to customers' and operators' URLs: what it holds, a hostile receiver
            # could one day learn (a redirect, a bug); so it holds neither Stripe nor Redis secrets.
            raise ValueError(
                f"{self.name}: a function that calls outside URLs holds no Stripe or Redis secret"
            )

    @property
    def entry_point(self) -> str:
        """The attribute of the source module that functions-framework serves (functions/main.py)."""
        return self.name

    @property
    def signature_type(self) -> str:
        return "http" if self.kind is FunctionKind.HTTP else "cloudevent"


# Topic names; settings may rename them per environment, the declaration names the defaults.
JOBS_TOPIC = "jobs"
WEBHOOK_EVENTS_TOPIC = "webhook-events"
WEBHOOK_RETRY_TOPIC = "webhook-retry-sweep"
# Retries, probes and endpoints that are failing or slow: their own subscription (docs/webhooks.md).
WEBHOOK_SLOW_TOPIC = "webhook-events-slow"
# Test traffic (test-mode events, webhook.test): never in front of live events (docs/webhooks.md).
WEBHOOK_TEST_TOPIC = "webhook-events-test"
COUNTERS_TOPIC = "counters-fold"
JOBS_SWEEP_TOPIC = "jobs-sweep"
CREDIT_GRANTS_SWEEP_TOPIC = "credit-grants-sweep"
USAGE_FLUSH_TOPIC = "usage-flush"
RECONCILE_TOPIC = "reconcile"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    # 100,000 requests/s at ~400/s per vCPU-instance (docs/capacity.md); 2 warm instances hide cold starts.
    FunctionSpec(
        "api",
        "functions.api:api",
        FunctionKind.HTTP,
        identity=Identity.API,
        calls_stripe=True,
        uses_redis=True,  # rate limits, usage counts
        memory="512Mi",
        concurrency=80,
        cpu="1",
        max_instances=1000,
        min_instances=2,
    ),
    FunctionSpec(
        "stripe_webhook",
        "functions.stripe_webhook:stripe_webhook",
        FunctionKind.HTTP,
        identity=Identity.STRIPE_EVENTS,
        calls_stripe=True,
        concurrency=20,
        cpu="1",
        max_instances=20,
    ),
    FunctionSpec(
        "on_user_created",
        "shared.accounts.founding:handle_user_created",
        FunctionKind.FIRESTORE,
        document="users/{userId}",
        event_type=FirestoreEventType.CREATED,
        concurrency=20,
        cpu="1",
        max_instances=10,
    ),
    # Every balance write: decided from the payload (thresholds copied onto the balance document); reads
    # and acts only when auto top-up or credits.low has something to do (docs/credits.md).
    FunctionSpec(
        "on_account_updated",
        "shared.webhooks.account_events:handle_account_updated",
        FunctionKind.FIRESTORE,
        document="users/{userId}",
        event_type=FirestoreEventType.UPDATED,
        identity=Identity.STRIPE_EVENTS,  # auto top-up charges the default card
        calls_stripe=True,
        concurrency=80,
        cpu="1",
        max_instances=100,
    ),
    # An auto top-up's purchase decided by Stripe's events ends its attempt (docs/credits.md); other
    # purchase writes are decided from the payload without a read.
    FunctionSpec(
        "on_purchase_updated",
        "shared.webhooks.account_events:handle_purchase_updated",
        FunctionKind.FIRESTORE,
        document="purchases/{purchaseId}",
        event_type=FirestoreEventType.UPDATED,
        identity=Identity.STRIPE_EVENTS,
        concurrency=20,
        cpu="1",
        max_instances=20,
    ),
    FunctionSpec(
        "sweep_credit_grants",
        "shared.webhooks.account_events:handle_sweep_credit_grants",
        FunctionKind.PUBSUB,
        topic=CREDIT_GRANTS_SWEEP_TOPIC,
        schedule="* * * * *",
        timeout_s=90,
        max_instances=1,
    ),
    FunctionSpec(
        "on_job_created",
        "shared.jobs.triggers:handle_job_created",
        FunctionKind.FIRESTORE,
        document="jobs/{jobId}",
        event_type=FirestoreEventType.CREATED,
        concurrency=80,
        cpu="1",
        max_instances=300,
    ),
    FunctionSpec(
        "on_job_updated",
        "shared.webhooks.events:handle_job_updated",
        FunctionKind.FIRESTORE,
        document="jobs/{jobId}",
        event_type=FirestoreEventType.UPDATED,
        uses_redis=True,  # counts the credits a finished job gave back (usage), for run_job and the sweep
        concurrency=80,
        cpu="1",
        max_instances=300,
    ),
    # The dispatcher: each attempt waits on an operator's worker (up to the type's timeout_s), so many at
    # once per instance. It keeps each type's flow control in Redis (shared/jobs/flow.py: slots, fair turns,
    # pauses) and signs each request with the type's secret, but never connects to a worker itself: the
    # signed request goes through send_to_worker, which holds nothing (docs/workers.md, "Flow control").
    # An event-driven function lives at most 540 s: longer attempts are ended by the sweep (docs/workers.md).
    FunctionSpec(
        "run_job",
        "shared.workers.dispatch:handle_run_job",
        FunctionKind.PUBSUB,
        topic=JOBS_TOPIC,
        identity=Identity.WORKERS,
        uses_redis=True,
        calls_internal_functions=True,  # send_to_worker
        timeout_s=540,
        memory="512Mi",
        concurrency=250,
        cpu="1",
        max_instances=400,
    ),
    FunctionSpec(
        "sweep_jobs",
        "shared.jobs.sweep:handle_sweep_jobs",
        FunctionKind.PUBSUB,
        topic=JOBS_SWEEP_TOPIC,
        schedule="* * * * *",
        # It polls the jobs' due times for most of its minute (the first retry is due 5 s after a failure).
        timeout_s=90,
        max_instances=1,  # one sweep at a time: it never overlaps with itself
        uses_redis=True,  # frees the flow-control slot a dead dispatcher held (shared/jobs/flow.py)
    ),
    # run_job's outbound POSTs (dispatches, cancel notices), each already signed: made with the guarded
    # sender by an identity with no role and no secret, reachable by run_job only. Each waits on a worker
    # as long as run_job's attempt does, so it scales as run_job does (docs/capacity.md).
    FunctionSpec(
        "send_to_worker",
        "functions.send_to_worker:send_to_worker",
        FunctionKind.HTTP,
        identity=Identity.JOB_SENDER,
        invoked_by=Identity.WORKERS,
        timeout_s=540,
        memory="512Mi",
        concurrency=250,
        cpu="1",
        max_instances=400,
    ),
    # The built-in worker of `echo` jobs, called by run_job like any operator's worker.
    FunctionSpec(
        "echo_worker",
        "functions.echo_worker:echo_worker",
        FunctionKind.HTTP,
        identity=Identity.ECHO_WORKER,
        concurrency=80,
        cpu="1",
        max_instances=100,
    ),
    # Deliveries wait on customers' servers (up to the send timeout): many at once per instance.
    FunctionSpec(
        "deliver_webhook",
        "shared.webhooks.delivery:handle_deliver_webhook",
        FunctionKind.PUBSUB,
        topic=WEBHOOK_EVENTS_TOPIC,
        identity=Identity.WEBHOOK_SENDER,
        memory="512Mi",
        concurrency=250,
        cpu="1",
        max_instances=400,
    ),
    # The lane of slow, failing and throttled endpoints: each holds at most 2 slots, so fewer instances.
    FunctionSpec(
        "deliver_webhook_slow",
        "shared.webhooks.delivery:handle_deliver_webhook_slow",
        FunctionKind.PUBSUB,
        topic=WEBHOOK_SLOW_TOPIC,
        identity=Identity.WEBHOOK_SENDER,
        memory="512Mi",
        concurrency=250,
        cpu="1",
        max_instances=100,
    ),
    # Test traffic: each endpoint holds at most 1 slot for it.
    FunctionSpec(
        "deliver_webhook_test",
        "shared.webhooks.delivery:handle_deliver_webhook_test",
        FunctionKind.PUBSUB,
        topic=WEBHOOK_TEST_TOPIC,
        identity=Identity.WEBHOOK_SENDER,
        memory="512Mi",
        concurrency=250,
        cpu="1",
        max_instances=50,
    ),
    FunctionSpec(
        "webhook_retry_sweep",
        "shared.webhooks.delivery:handle_webhook_retry_sweep",
        FunctionKind.PUBSUB,
        topic=WEBHOOK_RETRY_TOPIC,
        schedule="* * * * *",
        # It polls the schedule for most of its minute (short retries are due within seconds).
        timeout_s=90,
        max_instances=1,  # one sweep at a time: it never overlaps with itself
    ),
    FunctionSpec(
        "fold_counters",
        "shared.counters.service:handle_fold_counters",
        FunctionKind.PUBSUB,
        topic=COUNTERS_TOPIC,
        schedule="* * * * *",
        max_instances=1,  # one sweep at a time: it never overlaps with itself
    ),
    # What triggers should have done and may not have: missing job events, counter drift (docs/reliability.md).
    FunctionSpec(
        "reconcile",
        "shared.webhooks.reconcile:handle_reconcile",
        FunctionKind.PUBSUB,
        topic=RECONCILE_TOPIC,
        schedule="*/5 * * * *",
        timeout_s=300,
        max_instances=1,  # one pass at a time: it never overlaps with itself
    ),
    FunctionSpec(
        "flush_usage",
        "shared.keys.usage:handle_flush_usage",
        FunctionKind.PUBSUB,
        topic=USAGE_FLUSH_TOPIC,
        uses_redis=True,
        schedule="* * * * *",
        max_instances=1,  # one flush at a time: it never overlaps with itself
    ),
)


def by_name(name: str) -> FunctionSpec:
    for spec in FUNCTIONS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def topics(functions: tuple[FunctionSpec, ...] = FUNCTIONS) -> list[str]:
    return sorted({f.topic for f in functions if f.topic})
