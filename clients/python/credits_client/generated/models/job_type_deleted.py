from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="JobTypeDeleted")


@_attrs_define
class JobTypeDeleted:
    """
    Attributes:
        type_ (str):
        deleted (bool):
    """

    type_: str
    deleted: bool

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        deleted = self.deleted

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "deleted": deleted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = d.pop("type")

        deleted = d.pop("deleted")

        job_type_deleted = cls(
            type_=type_,
            deleted=deleted,
        )

        return job_type_deleted
