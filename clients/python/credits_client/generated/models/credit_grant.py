from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.grant_category import GrantCategory
from ..models.grant_source import GrantSource
from ..models.grant_status import GrantStatus

T = TypeVar("T", bound="CreditGrant")


@_attrs_define
class CreditGrant:
    """
    Attributes:
        grant_id (str):
        category (GrantCategory):
        name (str):
        amount (int): Credits granted.
        remaining (int): Credits left to spend (0 once depleted, expired or voided).
        status (GrantStatus):
        priority (int): Spent first: the lowest priority.
        source (GrantSource):
        effective_at (int):
        expires_at (int | None): Unspendable from this time on; null: never expires.
        created_at (int):
    """

    grant_id: str
    category: GrantCategory
    name: str
    amount: int
    remaining: int
    status: GrantStatus
    priority: int
    source: GrantSource
    effective_at: int
    expires_at: int | None
    created_at: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        grant_id = self.grant_id

        category = self.category.value

        name = self.name

        amount = self.amount

        remaining = self.remaining

        status = self.status.value

        priority = self.priority

        source = self.source.value

        effective_at = self.effective_at

        expires_at: int | None
        expires_at = self.expires_at

        created_at = self.created_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "grant_id": grant_id,
                "category": category,
                "name": name,
                "amount": amount,
                "remaining": remaining,
                "status": status,
                "priority": priority,
                "source": source,
                "effective_at": effective_at,
                "expires_at": expires_at,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        grant_id = d.pop("grant_id")

        category = GrantCategory(d.pop("category"))

        name = d.pop("name")

        amount = d.pop("amount")

        remaining = d.pop("remaining")

        status = GrantStatus(d.pop("status"))

        priority = d.pop("priority")

        source = GrantSource(d.pop("source"))

        effective_at = d.pop("effective_at")

        def _parse_expires_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        created_at = d.pop("created_at")

        credit_grant = cls(
            grant_id=grant_id,
            category=category,
            name=name,
            amount=amount,
            remaining=remaining,
            status=status,
            priority=priority,
            source=source,
            effective_at=effective_at,
            expires_at=expires_at,
            created_at=created_at,
        )

        credit_grant.additional_properties = d
        return credit_grant

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
