from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="NextAction")


@_attrs_define
class NextAction:
    """
    Attributes:
        type_ (str): Stripe's next_action.type, e.g. use_stripe_sdk or redirect_to_url.
        redirect_url (None | str): Where to send the customer (redirect_to_url).
        client_secret (None | str): For Stripe.js handleNextAction (3-D Secure).
    """

    type_: str
    redirect_url: str | None
    client_secret: str | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        redirect_url: str | None
        redirect_url = self.redirect_url

        client_secret: str | None
        client_secret = self.client_secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "redirect_url": redirect_url,
                "client_secret": client_secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = d.pop("type")

        def _parse_redirect_url(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        redirect_url = _parse_redirect_url(d.pop("redirect_url"))

        def _parse_client_secret(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        client_secret = _parse_client_secret(d.pop("client_secret"))

        next_action = cls(
            type_=type_,
            redirect_url=redirect_url,
            client_secret=client_secret,
        )

        next_action.additional_properties = d
        return next_action

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
