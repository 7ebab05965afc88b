from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.purchase_status import PurchaseStatus

if TYPE_CHECKING:
    from ..models.next_action import NextAction


T = TypeVar("T", bound="Purchase")


@_attrs_define
class Purchase:
    """
    Attributes:
        purchase_id (str):
        package (str):
        credits_ (int):
        amount (int): US cents.
        currency (str):
        status (PurchaseStatus):
        payment_intent_id (None | str):
        payment_method_id (None | str):
        credits_granted (bool):
        credits_clawed_back (int): Credits taken back by refunds and disputes now.
        amount_refunded (int): Cents refunded and not undone (failed refunds excluded).
        dispute_status (None | str): Stripe's status of the charge's newest dispute (warning_*: an inquiry), if any.
        next_action (NextAction | None): For status requires_action: what the customer must do before credits can
            arrive.
        failure_code (None | str):
        livemode (bool):
        created_at (int):
        updated_at (int | None):
    """

    purchase_id: str
    package: str
    credits_: int
    amount: int
    currency: str
    status: PurchaseStatus
    payment_intent_id: str | None
    payment_method_id: str | None
    credits_granted: bool
    credits_clawed_back: int
    amount_refunded: int
    dispute_status: str | None
    next_action: NextAction | None
    failure_code: str | None
    livemode: bool
    created_at: int
    updated_at: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.next_action import NextAction

        purchase_id = self.purchase_id

        package = self.package

        credits_ = self.credits_

        amount = self.amount

        currency = self.currency

        status = self.status.value

        payment_intent_id: str | None
        payment_intent_id = self.payment_intent_id

        payment_method_id: str | None
        payment_method_id = self.payment_method_id

        credits_granted = self.credits_granted

        credits_clawed_back = self.credits_clawed_back

        amount_refunded = self.amount_refunded

        dispute_status: str | None
        dispute_status = self.dispute_status

        next_action: dict[str, Any] | None
        if isinstance(self.next_action, NextAction):
            next_action = self.next_action.to_dict()
        else:
            next_action = self.next_action

        failure_code: str | None
        failure_code = self.failure_code

        livemode = self.livemode

        created_at = self.created_at

        updated_at: int | None
        updated_at = self.updated_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "purchase_id": purchase_id,
                "package": package,
                "credits": credits_,
                "amount": amount,
                "currency": currency,
                "status": status,
                "payment_intent_id": payment_intent_id,
                "payment_method_id": payment_method_id,
                "credits_granted": credits_granted,
                "credits_clawed_back": credits_clawed_back,
                "amount_refunded": amount_refunded,
                "dispute_status": dispute_status,
                "next_action": next_action,
                "failure_code": failure_code,
                "livemode": livemode,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.next_action import NextAction

        d = dict(src_dict)
        purchase_id = d.pop("purchase_id")

        package = d.pop("package")

        credits_ = d.pop("credits")

        amount = d.pop("amount")

        currency = d.pop("currency")

        status = PurchaseStatus(d.pop("status"))

        def _parse_payment_intent_id(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        payment_intent_id = _parse_payment_intent_id(d.pop("payment_intent_id"))

        def _parse_payment_method_id(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        payment_method_id = _parse_payment_method_id(d.pop("payment_method_id"))

        credits_granted = d.pop("credits_granted")

        credits_clawed_back = d.pop("credits_clawed_back")

        amount_refunded = d.pop("amount_refunded")

        def _parse_dispute_status(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        dispute_status = _parse_dispute_status(d.pop("dispute_status"))

        def _parse_next_action(data: object) -> NextAction | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                next_action_type_0 = NextAction.from_dict(data)

                return next_action_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NextAction | None, data)

        next_action = _parse_next_action(d.pop("next_action"))

        def _parse_failure_code(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        failure_code = _parse_failure_code(d.pop("failure_code"))

        livemode = d.pop("livemode")

        created_at = d.pop("created_at")

        def _parse_updated_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        updated_at = _parse_updated_at(d.pop("updated_at"))

        purchase = cls(
            purchase_id=purchase_id,
            package=package,
            credits_=credits_,
            amount=amount,
            currency=currency,
            status=status,
            payment_intent_id=payment_intent_id,
            payment_method_id=payment_method_id,
            credits_granted=credits_granted,
            credits_clawed_back=credits_clawed_back,
            amount_refunded=amount_refunded,
            dispute_status=dispute_status,
            next_action=next_action,
            failure_code=failure_code,
            livemode=livemode,
            created_at=created_at,
            updated_at=updated_at,
        )

        purchase.additional_properties = d
        return purchase

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
