"""Pub/Sub entry points: decode the messagePublished CloudEvent, call one handler named after the function
(`handle_<function>`)."""

from __future__ import annotations

import functions_framework
from cloudevents.http.event import CloudEvent

from functions.cloudevent_entry import cloudevent_entry
from shared.core.pubsub_events import decode_pubsub_message
from shared.counters.service import handle_fold_counters
from shared.jobs.sweep import handle_sweep_jobs


@functions_framework.cloud_event
@cloudevent_entry
def run_job(event: CloudEvent) -> None:
    from shared.workers.dispatch import handle_run_job

    handle_run_job(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def sweep_jobs(event: CloudEvent) -> None:
    handle_sweep_jobs(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def deliver_webhook(event: CloudEvent) -> None:
    from shared.webhooks.delivery import handle_deliver_webhook

    handle_deliver_webhook(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def deliver_webhook_slow(event: CloudEvent) -> None:
    from shared.webhooks.delivery import handle_deliver_webhook_slow

    handle_deliver_webhook_slow(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def webhook_retry_sweep(event: CloudEvent) -> None:
    from shared.webhooks.delivery import handle_webhook_retry_sweep

    handle_webhook_retry_sweep(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def fold_counters(event: CloudEvent) -> None:
    handle_fold_counters(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def flush_usage(event: CloudEvent) -> None:
    from shared.keys.usage import handle_flush_usage

    handle_flush_usage(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def reconcile(event: CloudEvent) -> None:
    from shared.webhooks.reconcile import handle_reconcile

    handle_reconcile(decode_pubsub_message(event))
