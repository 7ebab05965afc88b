from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="FixedPricing")


@_attrs_define
class FixedPricing:
    """A job type's fixed price: `credits` per job, debited at creation.

    Attributes:
        credits_ (int):
    """

    credits_: int

    def to_dict(self) -> dict[str, Any]:
        credits_ = self.credits_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "credits": credits_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        credits_ = d.pop("credits")

        fixed_pricing = cls(
            credits_=credits_,
        )

        return fixed_pricing
