from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.fixed_pricing import FixedPricing
    from ..models.metered_pricing import MeteredPricing


T = TypeVar("T", bound="JobType")


@_attrs_define
class JobType:
    """
    Attributes:
        type_ (str):
        description (str):
        pricing (FixedPricing | MeteredPricing): `{"credits"}` per job, or metered: `{"credits_per_unit", "max_credits",
            "unit"}`.
        worker_url (None | str): null for a legacy type (system/config.job_costs).
        timeout_s (int):
        max_attempts (int):
        queue_timeout_s (int):
        legacy (bool): Priced by system/config.job_costs, with no worker (docs/jobs.md).
        created_at (int | None):
        updated_at (int | None):
        worker_secret (None | str | Unset): Signs every dispatch (Standard Webhooks); present on creation and rotation
            only.
    """

    type_: str
    description: str
    pricing: FixedPricing | MeteredPricing
    worker_url: str | None
    timeout_s: int
    max_attempts: int
    queue_timeout_s: int
    legacy: bool
    created_at: int | None
    updated_at: int | None
    worker_secret: str | Unset | None = UNSET
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

        worker_url: str | None
        worker_url = self.worker_url

        timeout_s = self.timeout_s

        max_attempts = self.max_attempts

        queue_timeout_s = self.queue_timeout_s

        legacy = self.legacy

        created_at: int | None
        created_at = self.created_at

        updated_at: int | None
        updated_at = self.updated_at

        worker_secret: str | Unset | None
        if isinstance(self.worker_secret, Unset):
            worker_secret = UNSET
        else:
            worker_secret = self.worker_secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "description": description,
                "pricing": pricing,
                "worker_url": worker_url,
                "timeout_s": timeout_s,
                "max_attempts": max_attempts,
                "queue_timeout_s": queue_timeout_s,
                "legacy": legacy,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if worker_secret is not UNSET:
            field_dict["worker_secret"] = worker_secret

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

        def _parse_worker_url(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        worker_url = _parse_worker_url(d.pop("worker_url"))

        timeout_s = d.pop("timeout_s")

        max_attempts = d.pop("max_attempts")

        queue_timeout_s = d.pop("queue_timeout_s")

        legacy = d.pop("legacy")

        def _parse_created_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        created_at = _parse_created_at(d.pop("created_at"))

        def _parse_updated_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        updated_at = _parse_updated_at(d.pop("updated_at"))

        def _parse_worker_secret(data: object) -> str | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        worker_secret = _parse_worker_secret(d.pop("worker_secret", UNSET))

        job_type = cls(
            type_=type_,
            description=description,
            pricing=pricing,
            worker_url=worker_url,
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            queue_timeout_s=queue_timeout_s,
            legacy=legacy,
            created_at=created_at,
            updated_at=updated_at,
            worker_secret=worker_secret,
        )

        job_type.additional_properties = d
        return job_type

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
