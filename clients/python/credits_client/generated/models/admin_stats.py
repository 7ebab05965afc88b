from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

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

    def to_dict(self) -> dict[str, Any]:
        total_users = self.total_users

        total_jobs = self.total_jobs

        founding_member_count = self.founding_member_count

        maintenance_mode = self.maintenance_mode

        usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}

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

        return admin_stats
