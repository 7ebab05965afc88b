from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.fixed_pricing import FixedPricing
    from ..models.metered_pricing import MeteredPricing


T = TypeVar("T", bound="JobTypeListing")


@_attrs_define
class JobTypeListing:
    """
    Attributes:
        type_ (str):
        description (str):
        pricing (FixedPricing | MeteredPricing): `{"credits"}` per job, or metered: `{"credits_per_unit", "max_credits",
            "unit"}`.
    """

    type_: str
    description: str
    pricing: FixedPricing | MeteredPricing

    def to_dict(self) -> dict[str, Any]:
        from ..models.fixed_pricing import FixedPricing

        type_ = self.type_

        description = self.description

        pricing: dict[str, Any]
        if isinstance(self.pricing, FixedPricing):
            pricing = self.pricing.to_dict()
        else:
            pricing = self.pricing.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "description": description,
                "pricing": pricing,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.fixed_pricing import FixedPricing
        from ..models.metered_pricing import MeteredPricing

        d = dict(src_dict)
        type_ = d.pop("type")

        description = d.pop("description")

        def _parse_pricing(data: object) -> FixedPricing | MeteredPricing:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pricing_type_0 = FixedPricing.from_dict(data)

                return pricing_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            pricing_type_1 = MeteredPricing.from_dict(data)

            return pricing_type_1

        pricing = _parse_pricing(d.pop("pricing"))

        job_type_listing = cls(
            type_=type_,
            description=description,
            pricing=pricing,
        )

        return job_type_listing
