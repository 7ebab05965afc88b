from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

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

    def to_dict(self) -> dict[str, Any]:
        credits_per_unit = self.credits_per_unit

        max_credits = self.max_credits

        unit = self.unit

        field_dict: dict[str, Any] = {}

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

        return metered_pricing
