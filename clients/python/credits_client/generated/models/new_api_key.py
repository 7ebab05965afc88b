from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.key_environment import KeyEnvironment
from ..models.new_api_key_status import NewApiKeyStatus

T = TypeVar("T", bound="NewApiKey")


@_attrs_define
class NewApiKey:
    """
    Attributes:
        key_id (str):
        name (str):
        environment (KeyEnvironment):
        livemode (bool):
        key_prefix (str): The first 12 characters of the key.
        status (NewApiKeyStatus):
        created_at (int):
        last_used_at (int | None):
        expires_at (int | None):
        revoked_at (int | None):
        rolled_to_key_id (None | str):
        rate_limit (int): Requests per second this key may make (its override or the default).
        rate_limit_override (int | None): The key's own rate_limit; null: the default applies.
        max_jobs_in_flight (int): Queued plus running jobs this key may have at once.
        key (str): The plaintext key: shown in this response only, never stored.
    """

    key_id: str
    name: str
    environment: KeyEnvironment
    livemode: bool
    key_prefix: str
    status: NewApiKeyStatus
    created_at: int
    last_used_at: int | None
    expires_at: int | None
    revoked_at: int | None
    rolled_to_key_id: str | None
    rate_limit: int
    rate_limit_override: int | None
    max_jobs_in_flight: int
    key: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key_id = self.key_id

        name = self.name

        environment = self.environment.value

        livemode = self.livemode

        key_prefix = self.key_prefix

        status = self.status.value

        created_at = self.created_at

        last_used_at: int | None
        last_used_at = self.last_used_at

        expires_at: int | None
        expires_at = self.expires_at

        revoked_at: int | None
        revoked_at = self.revoked_at

        rolled_to_key_id: str | None
        rolled_to_key_id = self.rolled_to_key_id

        rate_limit = self.rate_limit

        rate_limit_override: int | None
        rate_limit_override = self.rate_limit_override

        max_jobs_in_flight = self.max_jobs_in_flight

        key = self.key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key_id": key_id,
                "name": name,
                "environment": environment,
                "livemode": livemode,
                "key_prefix": key_prefix,
                "status": status,
                "created_at": created_at,
                "last_used_at": last_used_at,
                "expires_at": expires_at,
                "revoked_at": revoked_at,
                "rolled_to_key_id": rolled_to_key_id,
                "rate_limit": rate_limit,
                "rate_limit_override": rate_limit_override,
                "max_jobs_in_flight": max_jobs_in_flight,
                "key": key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key_id = d.pop("key_id")

        name = d.pop("name")

        environment = KeyEnvironment(d.pop("environment"))

        livemode = d.pop("livemode")

        key_prefix = d.pop("key_prefix")

        status = NewApiKeyStatus(d.pop("status"))

        created_at = d.pop("created_at")

        def _parse_last_used_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_used_at = _parse_last_used_at(d.pop("last_used_at"))

        def _parse_expires_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        def _parse_revoked_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        revoked_at = _parse_revoked_at(d.pop("revoked_at"))

        def _parse_rolled_to_key_id(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        rolled_to_key_id = _parse_rolled_to_key_id(d.pop("rolled_to_key_id"))

        rate_limit = d.pop("rate_limit")

        def _parse_rate_limit_override(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rate_limit_override = _parse_rate_limit_override(d.pop("rate_limit_override"))

        max_jobs_in_flight = d.pop("max_jobs_in_flight")

        key = d.pop("key")

        new_api_key = cls(
            key_id=key_id,
            name=name,
            environment=environment,
            livemode=livemode,
            key_prefix=key_prefix,
            status=status,
            created_at=created_at,
            last_used_at=last_used_at,
            expires_at=expires_at,
            revoked_at=revoked_at,
            rolled_to_key_id=rolled_to_key_id,
            rate_limit=rate_limit,
            rate_limit_override=rate_limit_override,
            max_jobs_in_flight=max_jobs_in_flight,
            key=key,
        )

        new_api_key.additional_properties = d
        return new_api_key

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
