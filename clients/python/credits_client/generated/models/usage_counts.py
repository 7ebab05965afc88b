from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="UsageCounts")


@_attrs_define
class UsageCounts:
    """
    Attributes:
        requests (int): Key-authenticated requests, refused ones included.
        rate_limited (int): Requests refused with 429 rate_limited.
        jobs_created (int):
        credits_spent (int):
    """

    requests: int
    rate_limited: int
    jobs_created: int
    credits_spent: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        requests = self.requests

        rate_limited = self.rate_limited

        jobs_created = self.jobs_created

        credits_spent = self.credits_spent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "requests": requests,
                "rate_limited": rate_limited,
                "jobs_created": jobs_created,
                "credits_spent": credits_spent,
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

        usage_counts = cls(
            requests=requests,
            rate_limited=rate_limited,
            jobs_created=jobs_created,
            credits_spent=credits_spent,
        )

        usage_counts.additional_properties = d
        return usage_counts

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
