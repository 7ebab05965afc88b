from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateKeyBody")


@_attrs_define
class UpdateKeyBody:
    """
    Attributes:
        name (str | Unset):  Default: ''.
        rate_limit (int | None | Unset): Requests per second; null returns the key to the default of its environment.
    """

    name: str | Unset = ""
    rate_limit: int | Unset | None = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        rate_limit: int | Unset | None
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        def _parse_rate_limit(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        update_key_body = cls(
            name=name,
            rate_limit=rate_limit,
        )

        return update_key_body
