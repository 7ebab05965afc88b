"""Pub/Sub entry points: decode the messagePublished CloudEvent, call one handler."""

from __future__ import annotations

import functions_framework
from cloudevents.http.event import CloudEvent

from functions.cloudevent_entry import cloudevent_entry
from shared.core.pubsub_events import decode_pubsub_message
from shared.counters.service import fold_counters as fold_counter_shards
from shared.jobs.echo_worker import run_job_message
from shared.jobs.sweep import republish_stale_jobs


@functions_framework.cloud_event
@cloudevent_entry
def run_job(event: CloudEvent) -> None:
    run_job_message(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def requeue_stale_jobs(event: CloudEvent) -> None:
    decode_pubsub_message(event)
    republish_stale_jobs()


@functions_framework.cloud_event
@cloudevent_entry
def deliver_webhook(event: CloudEvent) -> None:
    from shared.webhooks.backlog import Lane
    from shared.webhooks.delivery import handle_delivery_message

    handle_delivery_message(decode_pubsub_message(event), Lane.FAST)


@functions_framework.cloud_event
@cloudevent_entry
def deliver_webhook_slow(event: CloudEvent) -> None:
    from shared.webhooks.backlog import Lane
    from shared.webhooks.delivery import handle_delivery_message

    handle_delivery_message(decode_pubsub_message(event), Lane.SLOW)


@functions_framework.cloud_event
@cloudevent_entry
def webhook_retry_sweep(event: CloudEvent) -> None:
    from shared.webhooks.delivery import handle_sweep_message

    handle_sweep_message(decode_pubsub_message(event))


@functions_framework.cloud_event
@cloudevent_entry
def fold_counters(event: CloudEvent) -> None:
    decode_pubsub_message(event)  # the message only says "fold now"; its content does not matter
    fold_counter_shards()


@functions_framework.cloud_event
@cloudevent_entry
def flush_usage(event: CloudEvent) -> None:
    from shared.keys.usage import flush_usage as move_usage_to_firestore

    decode_pubsub_message(event)  # a tick: its content does not matter
    move_usage_to_firestore()
