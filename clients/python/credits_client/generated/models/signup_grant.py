from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="SignupGrant")


@_attrs_define
class SignupGrant:
    """
    Attributes:
        credits_ (int): 0: no sign-up grant.
        expires_in_days (int): 0: the grant never expires.
    """

    credits_: int
    expires_in_days: int

    def to_dict(self) -> dict[str, Any]:
        credits_ = self.credits_

        expires_in_days = self.expires_in_days

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "credits": credits_,
                "expires_in_days": expires_in_days,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        credits_ = d.pop("credits")

        expires_in_days = d.pop("expires_in_days")

        signup_grant = cls(
            credits_=credits_,
            expires_in_days=expires_in_days,
        )

        return signup_grant
