from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.fixed_pricing import FixedPricing
    from ..models.metered_pricing import MeteredPricing


T = TypeVar("T", bound="JobTypeInput")


@_attrs_define
class JobTypeInput:
    """
    Attributes:
        worker_url (str):
        pricing (FixedPricing | MeteredPricing): `{"credits": n}` (fixed) or `{"credits_per_unit", "max_credits",
            "unit"}` (metered).
        description (str | Unset):  Default: ''.
        timeout_s (int | Unset):  Default: 300.
        max_attempts (int | Unset):  Default: 3.
        queue_timeout_s (int | Unset):  Default: 3600.
    """

    worker_url: str
    pricing: FixedPricing | MeteredPricing
    description: str | Unset = ""
    timeout_s: int | Unset = 300
    max_attempts: int | Unset = 3
    queue_timeout_s: int | Unset = 3600
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fixed_pricing import FixedPricing

        worker_url = self.worker_url

        pricing: dict[str, Any]
        if isinstance(self.pricing, FixedPricing):
            pricing = self.pricing.to_dict()
        else:
            pricing = self.pricing.to_dict()

        description = self.description

        timeout_s = self.timeout_s

        max_attempts = self.max_attempts

        queue_timeout_s = self.queue_timeout_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "worker_url": worker_url,
                "pricing": pricing,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if timeout_s is not UNSET:
            field_dict["timeout_s"] = timeout_s
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if queue_timeout_s is not UNSET:
            field_dict["queue_timeout_s"] = queue_timeout_s

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.fixed_pricing import FixedPricing
        from ..models.metered_pricing import MeteredPricing

        d = dict(src_dict)
        worker_url = d.pop("worker_url")

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

        description = d.pop("description", UNSET)

        timeout_s = d.pop("timeout_s", UNSET)

        max_attempts = d.pop("max_attempts", UNSET)

        queue_timeout_s = d.pop("queue_timeout_s", UNSET)

        job_type_input = cls(
            worker_url=worker_url,
            pricing=pricing,
            description=description,
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            queue_timeout_s=queue_timeout_s,
        )

        job_type_input.additional_properties = d
        return job_type_input

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
