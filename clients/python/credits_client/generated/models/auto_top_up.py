from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.auto_top_up_failure import AutoTopUpFailure

T = TypeVar("T", bound="AutoTopUp")


@_attrs_define
class AutoTopUp:
    """
    Attributes:
        enabled (bool):
        threshold (int):
        package (None | str):
        monthly_limit_cents (int):
        low_balance_threshold (int | None):
        disabled_reason (AutoTopUpFailure | None): Why auto top-up turned itself off (a charge failed); null while on or
            turned off by you.
        month_spent_cents (int): Charged by auto top-up this UTC month.
        in_progress (bool): A top-up is being charged now.
    """

    enabled: bool
    threshold: int
    package: str | None
    monthly_limit_cents: int
    low_balance_threshold: int | None
    disabled_reason: AutoTopUpFailure | None
    month_spent_cents: int
    in_progress: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        enabled = self.enabled

        threshold = self.threshold

        package: str | None
        package = self.package

        monthly_limit_cents = self.monthly_limit_cents

        low_balance_threshold: int | None
        low_balance_threshold = self.low_balance_threshold

        disabled_reason: str | None
        if isinstance(self.disabled_reason, AutoTopUpFailure):
            disabled_reason = self.disabled_reason.value
        else:
            disabled_reason = self.disabled_reason

        month_spent_cents = self.month_spent_cents

        in_progress = self.in_progress

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "enabled": enabled,
                "threshold": threshold,
                "package": package,
                "monthly_limit_cents": monthly_limit_cents,
                "low_balance_threshold": low_balance_threshold,
                "disabled_reason": disabled_reason,
                "month_spent_cents": month_spent_cents,
                "in_progress": in_progress,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        enabled = d.pop("enabled")

        threshold = d.pop("threshold")

        def _parse_package(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        package = _parse_package(d.pop("package"))

        monthly_limit_cents = d.pop("monthly_limit_cents")

        def _parse_low_balance_threshold(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        low_balance_threshold = _parse_low_balance_threshold(d.pop("low_balance_threshold"))

        def _parse_disabled_reason(data: object) -> AutoTopUpFailure | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_0 = AutoTopUpFailure(data)

                return disabled_reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AutoTopUpFailure | None, data)

        disabled_reason = _parse_disabled_reason(d.pop("disabled_reason"))

        month_spent_cents = d.pop("month_spent_cents")

        in_progress = d.pop("in_progress")

        auto_top_up = cls(
            enabled=enabled,
            threshold=threshold,
            package=package,
            monthly_limit_cents=monthly_limit_cents,
            low_balance_threshold=low_balance_threshold,
            disabled_reason=disabled_reason,
            month_spent_cents=month_spent_cents,
            in_progress=in_progress,
        )

        auto_top_up.additional_properties = d
        return auto_top_up

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
