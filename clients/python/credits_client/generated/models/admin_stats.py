from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.usage_counts import UsageCounts


T = TypeVar("T", bound="AdminStats")


@_attrs_define
class AdminStats:
    """
    Attributes:
        total_users (int):
        total_jobs (int):
        founding_member_count (int):
        maintenance_mode (bool):
        usage (UsageCounts):
    """

    total_users: int
    total_jobs: int
    founding_member_count: int
    maintenance_mode: bool
    usage: UsageCounts
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total_users = self.total_users

        total_jobs = self.total_jobs

        founding_member_count = self.founding_member_count

        maintenance_mode = self.maintenance_mode

        usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total_users": total_users,
                "total_jobs": total_jobs,
                "founding_member_count": founding_member_count,
                "maintenance_mode": maintenance_mode,
                "usage": usage,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_counts import UsageCounts

        d = dict(src_dict)
        total_users = d.pop("total_users")

        total_jobs = d.pop("total_jobs")

        founding_member_count = d.pop("founding_member_count")

        maintenance_mode = d.pop("maintenance_mode")

        usage = UsageCounts.from_dict(d.pop("usage"))

        admin_stats = cls(
            total_users=total_users,
            total_jobs=total_jobs,
            founding_member_count=founding_member_count,
            maintenance_mode=maintenance_mode,
            usage=usage,
        )

        admin_stats.additional_properties = d
        return admin_stats

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
