from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AdminAccountLimitsUpdate")


@_attrs_define
class AdminAccountLimitsUpdate:
    """
    Attributes:
        rate_limit (int | None | Unset): Live requests per second over all the account's keys; null returns to the
            default.
        jobs_in_flight (int | None | Unset): Live jobs queued plus running over all the account's keys; null returns to
            the default.
    """

    rate_limit: int | Unset | None = UNSET
    jobs_in_flight: int | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rate_limit: int | Unset | None
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

        jobs_in_flight: int | Unset | None
        if isinstance(self.jobs_in_flight, Unset):
            jobs_in_flight = UNSET
        else:
            jobs_in_flight = self.jobs_in_flight

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if jobs_in_flight is not UNSET:
            field_dict["jobs_in_flight"] = jobs_in_flight

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_rate_limit(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        def _parse_jobs_in_flight(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        jobs_in_flight = _parse_jobs_in_flight(d.pop("jobs_in_flight", UNSET))

        admin_account_limits_update = cls(
            rate_limit=rate_limit,
            jobs_in_flight=jobs_in_flight,
        )

        admin_account_limits_update.additional_properties = d
        return admin_account_limits_update

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
