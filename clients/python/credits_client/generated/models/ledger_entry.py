from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.ledger_entry_type import LedgerEntryType

T = TypeVar("T", bound="LedgerEntry")


@_attrs_define
class LedgerEntry:
    """
    Attributes:
        entry_id (str):
        type_ (LedgerEntryType):
        amount (int): Signed credits.
        balance_after (int):
        reference (None | str): The purchase or job id.
        description (None | str):
        created_at (int):
    """

    entry_id: str
    type_: LedgerEntryType
    amount: int
    balance_after: int
    reference: str | None
    description: str | None
    created_at: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entry_id = self.entry_id

        type_ = self.type_.value

        amount = self.amount

        balance_after = self.balance_after

        reference: str | None
        reference = self.reference

        description: str | None
        description = self.description

        created_at = self.created_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "entry_id": entry_id,
                "type": type_,
                "amount": amount,
                "balance_after": balance_after,
                "reference": reference,
                "description": description,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        entry_id = d.pop("entry_id")

        type_ = LedgerEntryType(d.pop("type"))

        amount = d.pop("amount")

        balance_after = d.pop("balance_after")

        def _parse_reference(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        reference = _parse_reference(d.pop("reference"))

        def _parse_description(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        created_at = d.pop("created_at")

        ledger_entry = cls(
            entry_id=entry_id,
            type_=type_,
            amount=amount,
            balance_after=balance_after,
            reference=reference,
            description=description,
            created_at=created_at,
        )

        ledger_entry.additional_properties = d
        return ledger_entry

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
