from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.grant_category import GrantCategory
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreditGrantInput")


@_attrs_define
class CreditGrantInput:
    """
    Attributes:
        amount (int): Credits granted.
        category (GrantCategory):
        name (str): Shown to the customer.
        expires_at (int | None | Unset): Unix seconds, in the future; null: never expires.
        priority (int | Unset): Spent first: the lowest. Default: 50.
    """

    amount: int
    category: GrantCategory
    name: str
    expires_at: int | Unset | None = UNSET
    priority: int | Unset = 50
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        category = self.category.value

        name = self.name

        expires_at: int | Unset | None
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = self.expires_at

        priority = self.priority

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "category": category,
                "name": name,
            }
        )
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if priority is not UNSET:
            field_dict["priority"] = priority

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        category = GrantCategory(d.pop("category"))

        name = d.pop("name")

        def _parse_expires_at(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        priority = d.pop("priority", UNSET)

        credit_grant_input = cls(
            amount=amount,
            category=category,
            name=name,
            expires_at=expires_at,
            priority=priority,
        )

        credit_grant_input.additional_properties = d
        return credit_grant_input

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
