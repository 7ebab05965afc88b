from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AccountLimits")


@_attrs_define
class AccountLimits:
    """
    Attributes:
        user_id (str):
        rate_limit (int): Live requests per second over all of the account's keys, in effect.
        rate_limit_override (int | None): The administrator's override; null: the default.
        jobs_in_flight (int): Live jobs queued plus running the account may have, in effect.
        jobs_in_flight_override (int | None): The administrator's override; null: the default.
    """

    user_id: str
    rate_limit: int
    rate_limit_override: int | None
    jobs_in_flight: int
    jobs_in_flight_override: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        rate_limit = self.rate_limit

        rate_limit_override: int | None
        rate_limit_override = self.rate_limit_override

        jobs_in_flight = self.jobs_in_flight

        jobs_in_flight_override: int | None
        jobs_in_flight_override = self.jobs_in_flight_override

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user_id": user_id,
                "rate_limit": rate_limit,
                "rate_limit_override": rate_limit_override,
                "jobs_in_flight": jobs_in_flight,
                "jobs_in_flight_override": jobs_in_flight_override,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = d.pop("user_id")

        rate_limit = d.pop("rate_limit")

        def _parse_rate_limit_override(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rate_limit_override = _parse_rate_limit_override(d.pop("rate_limit_override"))

        jobs_in_flight = d.pop("jobs_in_flight")

        def _parse_jobs_in_flight_override(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        jobs_in_flight_override = _parse_jobs_in_flight_override(d.pop("jobs_in_flight_override"))

        account_limits = cls(
            user_id=user_id,
            rate_limit=rate_limit,
            rate_limit_override=rate_limit_override,
            jobs_in_flight=jobs_in_flight,
            jobs_in_flight_override=jobs_in_flight_override,
        )

        account_limits.additional_properties = d
        return account_limits

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
