from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

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
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

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
        field_dict.update(self.additional_properties)
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

        job_type_listing.additional_properties = d
        return job_type_listing

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
