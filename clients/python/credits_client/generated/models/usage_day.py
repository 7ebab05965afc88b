from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UsageDay")


@_attrs_define
class UsageDay:
    """
    Attributes:
        requests (int): Key-authenticated requests, refused ones included.
        rate_limited (int): Requests refused with 429 rate_limited.
        jobs_created (int):
        credits_spent (int):
        date (str): UTC day, YYYY-MM-DD.
        key_id (str):
    """

    requests: int
    rate_limited: int
    jobs_created: int
    credits_spent: int
    date: str
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        requests = self.requests

        rate_limited = self.rate_limited

        jobs_created = self.jobs_created

        credits_spent = self.credits_spent

        date = self.date

        key_id = self.key_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "requests": requests,
                "rate_limited": rate_limited,
                "jobs_created": jobs_created,
                "credits_spent": credits_spent,
                "date": date,
                "key_id": key_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        requests = d.pop("requests")

        rate_limited = d.pop("rate_limited")

        jobs_created = d.pop("jobs_created")

        credits_spent = d.pop("credits_spent")

        date = d.pop("date")

        key_id = d.pop("key_id")

        usage_day = cls(
            requests=requests,
            rate_limited=rate_limited,
            jobs_created=jobs_created,
            credits_spent=credits_spent,
            date=date,
            key_id=key_id,
        )

        return usage_day
