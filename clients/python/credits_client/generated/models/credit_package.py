from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CreditPackage")


@_attrs_define
class CreditPackage:
    """
    Attributes:
        package (str):
        name (str):
        credits_ (int):
        price (int): US cents.
        currency (str):
        bonus_percent (int): Extra credits (percent) over the least generous package's credits per cent.
    """

    package: str
    name: str
    credits_: int
    price: int
    currency: str
    bonus_percent: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        package = self.package

        name = self.name

        credits_ = self.credits_

        price = self.price

        currency = self.currency

        bonus_percent = self.bonus_percent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "package": package,
                "name": name,
                "credits": credits_,
                "price": price,
                "currency": currency,
                "bonus_percent": bonus_percent,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        package = d.pop("package")

        name = d.pop("name")

        credits_ = d.pop("credits")

        price = d.pop("price")

        currency = d.pop("currency")

        bonus_percent = d.pop("bonus_percent")

        credit_package = cls(
            package=package,
            name=name,
            credits_=credits_,
            price=price,
            currency=currency,
            bonus_percent=bonus_percent,
        )

        credit_package.additional_properties = d
        return credit_package

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
