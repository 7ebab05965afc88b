from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="WebhookRecovered")


@_attrs_define
class WebhookRecovered:
    """
    Attributes:
        requeued (int): Failed events put back in the endpoint's backlog, oldest first.
        has_more (bool): More failed events remain: call again with the same since.
    """

    requeued: int
    has_more: bool

    def to_dict(self) -> dict[str, Any]:
        requeued = self.requeued

        has_more = self.has_more

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "requeued": requeued,
                "has_more": has_more,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        requeued = d.pop("requeued")

        has_more = d.pop("has_more")

        webhook_recovered = cls(
            requeued=requeued,
            has_more=has_more,
        )

        return webhook_recovered
