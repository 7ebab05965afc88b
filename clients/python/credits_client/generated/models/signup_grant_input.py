from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SignupGrantInput")


@_attrs_define
class SignupGrantInput:
    """
    Attributes:
        credits_ (int): 0 turns the sign-up grant off.
        expires_in_days (int | Unset): 0: never expires. Default: 0.
    """

    credits_: int
    expires_in_days: int | Unset = 0

    def to_dict(self) -> dict[str, Any]:
        credits_ = self.credits_

        expires_in_days = self.expires_in_days

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "credits": credits_,
            }
        )
        if expires_in_days is not UNSET:
            field_dict["expires_in_days"] = expires_in_days

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        credits_ = d.pop("credits")

        expires_in_days = d.pop("expires_in_days", UNSET)

        signup_grant_input = cls(
            credits_=credits_,
            expires_in_days=expires_in_days,
        )

        return signup_grant_input
