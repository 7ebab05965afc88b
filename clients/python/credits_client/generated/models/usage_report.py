from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.usage_counts import UsageCounts
    from ..models.usage_day import UsageDay


T = TypeVar("T", bound="UsageReport")


@_attrs_define
class UsageReport:
    """Usage per key and UTC day; counts are exact within about a minute (docs/rate-limits.md).

    Attributes:
        data (list[UsageDay]):
        totals (UsageCounts):
        from_ (str):
        to (str):
    """

    data: list[UsageDay]
    totals: UsageCounts
    from_: str
    to: str

    def to_dict(self) -> dict[str, Any]:
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        totals = self.totals.to_dict()

        from_ = self.from_

        to = self.to

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "data": data,
                "totals": totals,
                "from": from_,
                "to": to,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_counts import UsageCounts
        from ..models.usage_day import UsageDay

        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = UsageDay.from_dict(data_item_data)

            data.append(data_item)

        totals = UsageCounts.from_dict(d.pop("totals"))

        from_ = d.pop("from")

        to = d.pop("to")

        usage_report = cls(
            data=data,
            totals=totals,
            from_=from_,
            to=to,
        )

        return usage_report
