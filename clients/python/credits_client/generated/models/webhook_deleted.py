from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="WebhookDeleted")


@_attrs_define
class WebhookDeleted:
    """
    Attributes:
        webhook_id (str):
        deleted (bool):
    """

    webhook_id: str
    deleted: bool

    def to_dict(self) -> dict[str, Any]:
        webhook_id = self.webhook_id

        deleted = self.deleted

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "webhook_id": webhook_id,
                "deleted": deleted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        webhook_id = d.pop("webhook_id")

        deleted = d.pop("deleted")

        webhook_deleted = cls(
            webhook_id=webhook_id,
            deleted=deleted,
        )

        return webhook_deleted
