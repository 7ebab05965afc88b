from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="MaintenanceState")


@_attrs_define
class MaintenanceState:
    """
    Attributes:
        maintenance_mode (bool):
    """

    maintenance_mode: bool

    def to_dict(self) -> dict[str, Any]:
        maintenance_mode = self.maintenance_mode

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "maintenance_mode": maintenance_mode,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        maintenance_mode = d.pop("maintenance_mode")

        maintenance_state = cls(
            maintenance_mode=maintenance_mode,
        )

        return maintenance_state
