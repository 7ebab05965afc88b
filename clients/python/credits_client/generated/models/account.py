from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Account")


@_attrs_define
class Account:
    """
    Attributes:
        user_id (str):
        email (None | str):
        livemode (bool): False for test keys, which see the test-mode balance (always 0).
        credits_ (int): Balance in credits.
        founding_member (bool):
        founding_member_number (int | None):
        created_at (int):
    """

    user_id: str
    email: str | None
    livemode: bool
    credits_: int
    founding_member: bool
    founding_member_number: int | None
    created_at: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        email: str | None
        email = self.email

        livemode = self.livemode

        credits_ = self.credits_

        founding_member = self.founding_member

        founding_member_number: int | None
        founding_member_number = self.founding_member_number

        created_at = self.created_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user_id": user_id,
                "email": email,
                "livemode": livemode,
                "credits": credits_,
                "founding_member": founding_member,
                "founding_member_number": founding_member_number,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = d.pop("user_id")

        def _parse_email(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        livemode = d.pop("livemode")

        credits_ = d.pop("credits")

        founding_member = d.pop("founding_member")

        def _parse_founding_member_number(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        founding_member_number = _parse_founding_member_number(d.pop("founding_member_number"))

        created_at = d.pop("created_at")

        account = cls(
            user_id=user_id,
            email=email,
            livemode=livemode,
            credits_=credits_,
            founding_member=founding_member,
            founding_member_number=founding_member_number,
            created_at=created_at,
        )

        account.additional_properties = d
        return account

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
