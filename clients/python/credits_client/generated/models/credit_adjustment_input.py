from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CreditAdjustmentInput")


@_attrs_define
class CreditAdjustmentInput:
    """
    Attributes:
        amount (int): Signed credits, not 0: positive adds, negative takes (the balance may go below zero).
        reason (str): Shown to the customer as the ledger entry's description.
    """

    amount: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        reason = d.pop("reason")

        credit_adjustment_input = cls(
            amount=amount,
            reason=reason,
        )

        return credit_adjustment_input
