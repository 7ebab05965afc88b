from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="WebhookTestEvent")


@_attrs_define
class WebhookTestEvent:
    """
    Attributes:
        event_id (str):
        type_ (Literal['webhook.test']):
        status (Literal['pending']):
    """

    event_id: str
    type_: Literal["webhook.test"]
    status: Literal["pending"]

    def to_dict(self) -> dict[str, Any]:
        event_id = self.event_id

        type_ = self.type_

        status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "event_id": event_id,
                "type": type_,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_id = d.pop("event_id")

        type_ = cast(Literal["webhook.test"], d.pop("type"))
        if type_ != "webhook.test":
            raise ValueError(f"type must match const 'webhook.test', got '{type_}'")

        status = cast(Literal["pending"], d.pop("status"))
        if status != "pending":
            raise ValueError(f"status must match const 'pending', got '{status}'")

        webhook_test_event = cls(
            event_id=event_id,
            type_=type_,
            status=status,
        )

        return webhook_test_event
