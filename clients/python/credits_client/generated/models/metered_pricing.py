from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="MeteredPricing")


@_attrs_define
class MeteredPricing:
    """A metered price: `max_credits` reserved at creation, `min(max_credits, ceil(units x credits_per_unit))`
    charged on completion, the rest released.

        Attributes:
            credits_per_unit (float):
            max_credits (int):
            unit (str):
    """

    credits_per_unit: float
    max_credits: int
    unit: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        credits_per_unit = self.credits_per_unit

        max_credits = self.max_credits

        unit = self.unit

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "credits_per_unit": credits_per_unit,
                "max_credits": max_credits,
                "unit": unit,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        credits_per_unit = d.pop("credits_per_unit")

        max_credits = d.pop("max_credits")

        unit = d.pop("unit")

        metered_pricing = cls(
            credits_per_unit=credits_per_unit,
            max_credits=max_credits,
            unit=unit,
        )

        metered_pricing.additional_properties = d
        return metered_pricing

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
