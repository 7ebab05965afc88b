"""Every deployed entry point, by the name the function declaration (shared/core/function_registry.py) gives it."""

from functions.api import api
from functions.echo_worker import echo_worker
from functions.pubsub_handlers import (
    deliver_webhook,
    deliver_webhook_slow,
    flush_usage,
    fold_counters,
    reconcile,
    run_job,
    sweep_jobs,
    webhook_retry_sweep,
)
from functions.stripe_webhook import stripe_webhook
from functions.triggers import on_job_created, on_job_updated, on_user_created

__all__ = [
    "api",
    "deliver_webhook",
    "deliver_webhook_slow",
    "echo_worker",
    "flush_usage",
    "fold_counters",
    "on_job_created",
    "on_job_updated",
    "on_user_created",
    "reconcile",
    "run_job",
    "stripe_webhook",
    "sweep_jobs",
    "webhook_retry_sweep",
]
