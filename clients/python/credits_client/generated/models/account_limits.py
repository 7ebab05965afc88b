from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

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

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        rate_limit = self.rate_limit

        rate_limit_override: int | None
        rate_limit_override = self.rate_limit_override

        jobs_in_flight = self.jobs_in_flight

        jobs_in_flight_override: int | None
        jobs_in_flight_override = self.jobs_in_flight_override

        field_dict: dict[str, Any] = {}

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

        return account_limits
