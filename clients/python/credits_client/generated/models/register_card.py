from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="RegisterCard")


@_attrs_define
class RegisterCard:
    """
    Attributes:
        setup_intent_id (str):
    """

    setup_intent_id: str

    def to_dict(self) -> dict[str, Any]:
        setup_intent_id = self.setup_intent_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "setup_intent_id": setup_intent_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        setup_intent_id = d.pop("setup_intent_id")

        register_card = cls(
            setup_intent_id=setup_intent_id,
        )

        return register_card
