"""Firestore trigger entry points: decode the CloudEvent into a DocumentChange, call one handler."""

from __future__ import annotations

import functions_framework
from cloudevents.http.event import CloudEvent

from functions.cloudevent_entry import cloudevent_entry
from shared.accounts.founding import handle_user_created
from shared.core.firestore_events import decode_document_event
from shared.jobs.triggers import handle_job_created


@functions_framework.cloud_event
@cloudevent_entry
def on_user_created(event: CloudEvent) -> None:
    handle_user_created(decode_document_event(event))


@functions_framework.cloud_event
@cloudevent_entry
def on_job_created(event: CloudEvent) -> None:
    handle_job_created(decode_document_event(event))


@functions_framework.cloud_event
@cloudevent_entry
def on_job_updated(event: CloudEvent) -> None:
    from shared.webhooks.events import handle_job_updated

    handle_job_updated(decode_document_event(event))
