from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="RecoverInput")


@_attrs_define
class RecoverInput:
    """POST /v1/webhook/recover.

    Attributes:
        since (int): Unix seconds: failed events created since then.
    """

    since: int

    def to_dict(self) -> dict[str, Any]:
        since = self.since

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "since": since,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        since = d.pop("since")

        recover_input = cls(
            since=since,
        )

        return recover_input
