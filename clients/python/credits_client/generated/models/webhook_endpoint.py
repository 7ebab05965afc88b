from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_endpoint_status import WebhookEndpointStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookEndpoint")


@_attrs_define
class WebhookEndpoint:
    """
    Attributes:
        webhook_id (str):
        url (str):
        events (list[str]):
        enabled (bool):
        disabled_reason (None | str):
        created_at (int):
        updated_at (int | None):
        last_triggered_at (int | None):
        last_status_code (int | None):
        previous_secret_expires_at (int | None):
        rate_limit (int | None): Deliveries per second at most; null: no throttle.
        secret (None | str | Unset): whsec_...: present only when the endpoint is created or its secret rotated.
        status (None | Unset | WebhookEndpointStatus): GET only. failing: the circuit is open (one probe at a time on
            the retry schedule).
        consecutive_failures (int | None | Unset): GET only. Failed attempts in a row.
        backlog (int | None | Unset): GET only. Events not yet delivered: queued, in flight or awaiting a retry.
    """

    webhook_id: str
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: int
    updated_at: int | None
    last_triggered_at: int | None
    last_status_code: int | None
    previous_secret_expires_at: int | None
    rate_limit: int | None
    secret: str | Unset | None = UNSET
    status: Unset | WebhookEndpointStatus | None = UNSET
    consecutive_failures: int | Unset | None = UNSET
    backlog: int | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        webhook_id = self.webhook_id

        url = self.url

        events = self.events

        enabled = self.enabled

        disabled_reason: str | None
        disabled_reason = self.disabled_reason

        created_at = self.created_at

        updated_at: int | None
        updated_at = self.updated_at

        last_triggered_at: int | None
        last_triggered_at = self.last_triggered_at

        last_status_code: int | None
        last_status_code = self.last_status_code

        previous_secret_expires_at: int | None
        previous_secret_expires_at = self.previous_secret_expires_at

        rate_limit: int | None
        rate_limit = self.rate_limit

        secret: str | Unset | None
        if isinstance(self.secret, Unset):
            secret = UNSET
        else:
            secret = self.secret

        status: str | Unset | None
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, WebhookEndpointStatus):
            status = self.status.value
        else:
            status = self.status

        consecutive_failures: int | Unset | None
        if isinstance(self.consecutive_failures, Unset):
            consecutive_failures = UNSET
        else:
            consecutive_failures = self.consecutive_failures

        backlog: int | Unset | None
        if isinstance(self.backlog, Unset):
            backlog = UNSET
        else:
            backlog = self.backlog

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "webhook_id": webhook_id,
                "url": url,
                "events": events,
                "enabled": enabled,
                "disabled_reason": disabled_reason,
                "created_at": created_at,
                "updated_at": updated_at,
                "last_triggered_at": last_triggered_at,
                "last_status_code": last_status_code,
                "previous_secret_expires_at": previous_secret_expires_at,
                "rate_limit": rate_limit,
            }
        )
        if secret is not UNSET:
            field_dict["secret"] = secret
        if status is not UNSET:
            field_dict["status"] = status
        if consecutive_failures is not UNSET:
            field_dict["consecutive_failures"] = consecutive_failures
        if backlog is not UNSET:
            field_dict["backlog"] = backlog

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        webhook_id = d.pop("webhook_id")

        url = d.pop("url")

        events = cast(list[str], d.pop("events"))

        enabled = d.pop("enabled")

        def _parse_disabled_reason(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        disabled_reason = _parse_disabled_reason(d.pop("disabled_reason"))

        created_at = d.pop("created_at")

        def _parse_updated_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        updated_at = _parse_updated_at(d.pop("updated_at"))

        def _parse_last_triggered_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_triggered_at = _parse_last_triggered_at(d.pop("last_triggered_at"))

        def _parse_last_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_status_code = _parse_last_status_code(d.pop("last_status_code"))

        def _parse_previous_secret_expires_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        previous_secret_expires_at = _parse_previous_secret_expires_at(d.pop("previous_secret_expires_at"))

        def _parse_rate_limit(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit"))

        def _parse_secret(data: object) -> str | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        secret = _parse_secret(d.pop("secret", UNSET))

        def _parse_status(data: object) -> Unset | WebhookEndpointStatus | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = WebhookEndpointStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | WebhookEndpointStatus, data)

        status = _parse_status(d.pop("status", UNSET))

        def _parse_consecutive_failures(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        consecutive_failures = _parse_consecutive_failures(d.pop("consecutive_failures", UNSET))

        def _parse_backlog(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        backlog = _parse_backlog(d.pop("backlog", UNSET))

        webhook_endpoint = cls(
            webhook_id=webhook_id,
            url=url,
            events=events,
            enabled=enabled,
            disabled_reason=disabled_reason,
            created_at=created_at,
            updated_at=updated_at,
            last_triggered_at=last_triggered_at,
            last_status_code=last_status_code,
            previous_secret_expires_at=previous_secret_expires_at,
            rate_limit=rate_limit,
            secret=secret,
            status=status,
            consecutive_failures=consecutive_failures,
            backlog=backlog,
        )

        webhook_endpoint.additional_properties = d
        return webhook_endpoint

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
