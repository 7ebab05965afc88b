from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.error_detail_code import ErrorDetailCode
from ..models.error_detail_type import ErrorDetailType
from ..types import UNSET, Unset

T = TypeVar("T", bound="ErrorDetail")


@_attrs_define
class ErrorDetail:
    """
    Attributes:
        type_ (ErrorDetailType):
        code (ErrorDetailCode): Names the cause.
        message (str): For people; may change.
        param (None | str | Unset): The one input field at fault, when there is one.
        stripe_code (None | str | Unset): With `stripe_rejected`: the code Stripe gave for refusing the request (e.g.
            `resource_missing`).
    """

    type_: ErrorDetailType
    code: ErrorDetailCode
    message: str
    param: str | Unset | None = UNSET
    stripe_code: str | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        code = self.code.value

        message = self.message

        param: str | Unset | None
        if isinstance(self.param, Unset):
            param = UNSET
        else:
            param = self.param

        stripe_code: str | Unset | None
        if isinstance(self.stripe_code, Unset):
            stripe_code = UNSET
        else:
            stripe_code = self.stripe_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "code": code,
                "message": message,
            }
        )
        if param is not UNSET:
            field_dict["param"] = param
        if stripe_code is not UNSET:
            field_dict["stripe_code"] = stripe_code

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = ErrorDetailType(d.pop("type"))

        code = ErrorDetailCode(d.pop("code"))

        message = d.pop("message")

        def _parse_param(data: object) -> str | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        param = _parse_param(d.pop("param", UNSET))

        def _parse_stripe_code(data: object) -> str | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        stripe_code = _parse_stripe_code(d.pop("stripe_code", UNSET))

        error_detail = cls(
            type_=type_,
            code=code,
            message=message,
            param=param,
            stripe_code=stripe_code,
        )

        error_detail.additional_properties = d
        return error_detail

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
