from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_job_request_input import CreateJobRequestInput


T = TypeVar("T", bound="CreateJobRequest")


@_attrs_define
class CreateJobRequest:
    """
    Attributes:
        type_ (str):
        input_ (CreateJobRequestInput | Unset):
        run_at (int | None | Unset): Unix seconds: the job is not dispatched before this (at most 7 days ahead); its
            credits are held from creation.
    """

    type_: str
    input_: CreateJobRequestInput | Unset = UNSET
    run_at: int | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        input_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.input_, Unset):
            input_ = self.input_.to_dict()

        run_at: int | Unset | None
        if isinstance(self.run_at, Unset):
            run_at = UNSET
        else:
            run_at = self.run_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if input_ is not UNSET:
            field_dict["input"] = input_
        if run_at is not UNSET:
            field_dict["run_at"] = run_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_job_request_input import CreateJobRequestInput

        d = dict(src_dict)
        type_ = d.pop("type")

        _input_ = d.pop("input", UNSET)
        input_: CreateJobRequestInput | Unset
        if isinstance(_input_, Unset):
            input_ = UNSET
        else:
            input_ = CreateJobRequestInput.from_dict(_input_)

        def _parse_run_at(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        run_at = _parse_run_at(d.pop("run_at", UNSET))

        create_job_request = cls(
            type_=type_,
            input_=input_,
            run_at=run_at,
        )

        create_job_request.additional_properties = d
        return create_job_request

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
