from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="JobUsage")


@_attrs_define
class JobUsage:
    """
    Attributes:
        units (float): What the metered worker reported.
        unit (str):
    """

    units: float
    unit: str

    def to_dict(self) -> dict[str, Any]:
        units = self.units

        unit = self.unit

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "units": units,
                "unit": unit,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        units = d.pop("units")

        unit = d.pop("unit")

        job_usage = cls(
            units=units,
            unit=unit,
        )

        return job_usage
