"""Every Firestore query the platform runs, by shape, with the function that runs it.

A test holds the code to this list (every function that filters or orders a query is named here, nothing
else is) and the list to `firestore.indexes.json` (every shape that needs a composite index has one).
Adding a query means adding its shape here; the test then says whether it needs an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["ASCENDING", "DESCENDING"]

# Fields whose values spread index entries over many ranges. An index entry over a timestamp (values that
# grow across all users: the "sequential indexed values" hotspot, ~500 writes/s per collection) must have
# one of these before it; tests/unit/test_index_hotspots.py holds firestore.indexes.json to that.
HIGH_CARDINALITY_PREFIXES = frozenset({"user_id", "index_shard"})
# In a collection whose documents carry `user_range` (one customer may write ~1,000 a second), `user_id`
# alone does not spread one customer's entries: a timestamp needs `user_range` before it too.
USER_RANGE_FIELD = "user_range"


@dataclass(frozen=True)
class QueryShape:
    site: str  # "module.path:function"
    collection: str
    equality: tuple[str, ...] = ()  # fields filtered with == (or `in`: user_range)
    range_field: str | None = None  # the one field with <, <=, >, >= (it must be the first order too)
    order: tuple[tuple[str, Direction], ...] = ()

    def composite_index(self) -> tuple[tuple[str, Direction], ...] | None:
        """The composite index this shape needs, or None when single-field indexes (automatic, and merged
        for equality-only queries) serve it. Equality fields come first, in any order, as ASCENDING."""
        ordered = list(self.order)
        if self.range_field is not None and not any(f == self.range_field for f, _ in ordered):
            ordered.insert(0, (self.range_field, "ASCENDING"))
        ordered = [(f, d) for f, d in ordered if f != "__name__"]
        if not ordered or (not self.equality and len(ordered) == 1):
            return None
        return tuple((f, "ASCENDING") for f in self.equality) + tuple(ordered)


QUERIES: tuple[QueryShape, ...] = (
    QueryShape("shared.keys.auth:_load", "api_keys", equality=("key_hash",)),
    QueryShape(
        "shared.keys.service:list_keys_page",
        "api_keys",
        equality=("user_id",),
        order=(("created_at", "DESCENDING"), ("__name__", "DESCENDING")),
    ),
    QueryShape("shared.keys.service:count_active_keys", "api_keys", equality=("user_id", "status")),
    QueryShape(
        "shared.keys.service:count_active_keys",
        "api_keys",
        equality=("user_id", "status"),
        range_field="expires_at",
    ),
    QueryShape("shared.billing.card_store:list_payment_methods", "payment_methods", equality=("user_id",)),
    QueryShape("shared.billing.card_store:apply_default.attempt", "payment_methods", equality=("user_id",)),
    QueryShape(
        "shared.billing.purchases:purchase_for_payment_intent_id",
        "purchases",
        equality=("payment_intent_id",),
    ),
    QueryShape("shared.billing.customers:_find_existing", "stripe_customers", equality=("user_id",)),
    QueryShape(
        "shared.jobs.service:jobs_query",
        "jobs",
        equality=("user_id", "livemode", "user_range"),
        order=(("created_at", "DESCENDING"),),
    ),
    QueryShape(
        "shared.jobs.service:jobs_query",
        "jobs",
        equality=("user_id", "livemode", "status", "user_range"),
        order=(("created_at", "DESCENDING"),),
    ),
    QueryShape(
        "shared.jobs.sweep:_due_query",
        "jobs",
        equality=("index_shard",),
        range_field="sweep_at",
        order=(("sweep_at", "ASCENDING"),),
    ),
    QueryShape(
        "shared.webhooks.reconcile:_finished_page",
        "jobs",
        equality=("index_shard",),
        range_field="finished_at",
        order=(("finished_at", "ASCENDING"),),
    ),
    QueryShape(
        "shared.credits.views:list_ledger",
        "credit_ledger",
        equality=("user_id", "user_range"),
        order=(("created_at", "DESCENDING"),),
    ),
    QueryShape(
        "shared.credits.granting:list_grants",
        "credit_grants",
        equality=("user_id",),
        order=(("created_at", "DESCENDING"),),
    ),
    QueryShape(
        "shared.credits.granting:due_expiry_query",
        "credit_grants",
        equality=("index_shard", "status"),
        range_field="expires_at",
        order=(("expires_at", "ASCENDING"),),
    ),
    QueryShape(
        "shared.webhooks.account_events:expiring_query",
        "credit_grants",
        equality=("index_shard", "status", "expiring_notified"),
        range_field="expires_at",
        order=(("expires_at", "ASCENDING"),),
    ),
    QueryShape("shared.credits.ledger:_state_of", "purchases", equality=("user_id", "credits_granted")),
    QueryShape(
        "shared.webhooks.delivery_log:list_deliveries",
        "webhook_deliveries",
        equality=("user_id", "user_range"),
        order=(("created_at", "DESCENDING"), ("__name__", "DESCENDING")),
    ),
    QueryShape(
        "shared.webhooks.delivery_log:list_deliveries",
        "webhook_deliveries",
        equality=("user_id", "livemode", "user_range"),
        order=(("created_at", "DESCENDING"), ("__name__", "DESCENDING")),
    ),
    QueryShape(
        "shared.webhooks.events:due_query",
        "webhook_events",
        equality=("index_shard", "status"),
        range_field="next_attempt_at",
        order=(("next_attempt_at", "ASCENDING"),),
    ),
    QueryShape(
        "shared.webhooks.backlog:_queued_page",
        "webhook_events",
        equality=("user_id", "status", "queued", "test_traffic", "user_range"),
        order=(("created_at", "ASCENDING"),),
    ),
    QueryShape("shared.webhooks.backlog:backlog_size", "webhook_events", equality=("user_id", "status")),
    QueryShape(
        "shared.webhooks.controls:_failed_since",
        "webhook_events",
        equality=("user_id", "status", "user_range"),
        range_field="created_at",
        order=(("created_at", "ASCENDING"),),
    ),
    QueryShape("shared.jobs.service:jobs_in_flight", "jobs", equality=("key_id", "status")),
    QueryShape("shared.credits.lease_store:lease_use", "jobs", equality=("lease_id",)),
    QueryShape("shared.credits.lease_store:pending_returns", "credit_returns", equality=("user_id",)),
    QueryShape(
        "shared.credits.lease_store:_due.query",
        "credit_leases",
        equality=("index_shard",),
        range_field="sweep_at",
        order=(("sweep_at", "ASCENDING"),),
    ),
    QueryShape(
        "shared.credits.lease_store:_due.query",
        "credit_returns",
        equality=("index_shard",),
        range_field="sweep_at",
        order=(("sweep_at", "ASCENDING"),),
    ),
    QueryShape(
        "shared.jobs.service:account_jobs_in_flight", "jobs", equality=("user_id", "livemode", "status")
    ),
    QueryShape(
        "shared.keys.usage:_usage_query",
        "usage",
        equality=("key_id",),
        range_field="day",
        order=(("day", "ASCENDING"),),
    ),
    QueryShape(
        "shared.keys.usage:_usage_query",
        "usage",
        equality=("user_id",),
        range_field="day",
        order=(("day", "ASCENDING"),),
    ),
    QueryShape(
        "shared.keys.usage:_usage_query",
        "usage",
        equality=("user_id", "livemode"),
        range_field="day",
        order=(("day", "ASCENDING"),),
    ),
)
