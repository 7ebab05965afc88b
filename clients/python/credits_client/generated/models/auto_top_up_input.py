from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AutoTopUpInput")


@_attrs_define
class AutoTopUpInput:
    """
    Attributes:
        enabled (bool):
        threshold (int): Buy when the balance falls below this.
        package (None | str | Unset): The credit package bought (required when enabled).
        monthly_limit_cents (int | Unset): At most this much is charged per UTC month. Default: 0.
        low_balance_threshold (int | None | Unset): credits.low is sent when the balance falls below this (again after
            it was back above).
    """

    enabled: bool
    threshold: int
    package: str | Unset | None = UNSET
    monthly_limit_cents: int | Unset = 0
    low_balance_threshold: int | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        enabled = self.enabled

        threshold = self.threshold

        package: str | Unset | None
        if isinstance(self.package, Unset):
            package = UNSET
        else:
            package = self.package

        monthly_limit_cents = self.monthly_limit_cents

        low_balance_threshold: int | Unset | None
        if isinstance(self.low_balance_threshold, Unset):
            low_balance_threshold = UNSET
        else:
            low_balance_threshold = self.low_balance_threshold

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "enabled": enabled,
                "threshold": threshold,
            }
        )
        if package is not UNSET:
            field_dict["package"] = package
        if monthly_limit_cents is not UNSET:
            field_dict["monthly_limit_cents"] = monthly_limit_cents
        if low_balance_threshold is not UNSET:
            field_dict["low_balance_threshold"] = low_balance_threshold

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        enabled = d.pop("enabled")

        threshold = d.pop("threshold")

        def _parse_package(data: object) -> str | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        package = _parse_package(d.pop("package", UNSET))

        monthly_limit_cents = d.pop("monthly_limit_cents", UNSET)

        def _parse_low_balance_threshold(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        low_balance_threshold = _parse_low_balance_threshold(d.pop("low_balance_threshold", UNSET))

        auto_top_up_input = cls(
            enabled=enabled,
            threshold=threshold,
            package=package,
            monthly_limit_cents=monthly_limit_cents,
            low_balance_threshold=low_balance_threshold,
        )

        auto_top_up_input.additional_properties = d
        return auto_top_up_input

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
