from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.key_environment import KeyEnvironment

T = TypeVar("T", bound="WhoAmI")


@_attrs_define
class WhoAmI:
    """
    Attributes:
        key_id (str):
        user_id (str):
        environment (KeyEnvironment):
        livemode (bool):
    """

    key_id: str
    user_id: str
    environment: KeyEnvironment
    livemode: bool

    def to_dict(self) -> dict[str, Any]:
        key_id = self.key_id

        user_id = self.user_id

        environment = self.environment.value

        livemode = self.livemode

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "key_id": key_id,
                "user_id": user_id,
                "environment": environment,
                "livemode": livemode,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key_id = d.pop("key_id")

        user_id = d.pop("user_id")

        environment = KeyEnvironment(d.pop("environment"))

        livemode = d.pop("livemode")

        who_am_i = cls(
            key_id=key_id,
            user_id=user_id,
            environment=environment,
            livemode=livemode,
        )

        return who_am_i
