"""Decode Pub/Sub `messagePublished` CloudEvents into a typed message."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cloudevents.http.event import CloudEvent


class MalformedMessage(ValueError):
    """A message that can never be processed: acknowledge it (retrying cannot help) and log it."""


@dataclass(frozen=True)
class PubSubMessage:
    message_id: str
    data: bytes
    attributes: dict[str, str]
    topic: str | None

    def json(self) -> Any:
        try:
            return json.loads(self.data)
        except ValueError as exc:
            raise MalformedMessage(f"message {self.message_id} is not JSON") from exc


def decode_pubsub_message(event: CloudEvent) -> PubSubMessage:
    payload = event.data
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), dict):
        raise MalformedMessage("event data has no Pub/Sub message")
    message = payload["message"]
    try:
        data = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedMessage("message data is not base64") from exc
    source = str(event.get("source") or "")
    topic = source.rsplit("/topics/", 1)[1] if "/topics/" in source else None
    return PubSubMessage(
        message_id=str(message.get("messageId") or message.get("message_id") or event["id"]),
        data=data,
        attributes={str(k): str(v) for k, v in (message.get("attributes") or {}).items()},
        topic=topic,
    )
