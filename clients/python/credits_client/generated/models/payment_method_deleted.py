from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PaymentMethodDeleted")


@_attrs_define
class PaymentMethodDeleted:
    """
    Attributes:
        payment_method_id (str):
        deleted (bool):
    """

    payment_method_id: str
    deleted: bool

    def to_dict(self) -> dict[str, Any]:
        payment_method_id = self.payment_method_id

        deleted = self.deleted

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "payment_method_id": payment_method_id,
                "deleted": deleted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        payment_method_id = d.pop("payment_method_id")

        deleted = d.pop("deleted")

        payment_method_deleted = cls(
            payment_method_id=payment_method_id,
            deleted=deleted,
        )

        return payment_method_deleted
