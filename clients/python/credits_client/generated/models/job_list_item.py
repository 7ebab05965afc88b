from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.job_status import JobStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_list_item_input import JobListItemInput
    from ..models.job_list_item_result import JobListItemResult


T = TypeVar("T", bound="JobListItem")


@_attrs_define
class JobListItem:
    """A job in GET /v1/jobs: `input` and `result` only when expanded (expand[]=data.input, data.result).

    Attributes:
        job_id (str):
        type_ (str):
        status (JobStatus):
        error (None | str):
        livemode (bool):
        cost (int):
        created_at (int):
        input_ (JobListItemInput | None | Unset): Present with expand[]=data.input.
        result (JobListItemResult | None | Unset): Present with expand[]=data.result.
    """

    job_id: str
    type_: str
    status: JobStatus
    error: str | None
    livemode: bool
    cost: int
    created_at: int
    input_: JobListItemInput | Unset | None = UNSET
    result: JobListItemResult | Unset | None = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.job_list_item_input import JobListItemInput
        from ..models.job_list_item_result import JobListItemResult

        job_id = self.job_id

        type_ = self.type_

        status = self.status.value

        error: str | None
        error = self.error

        livemode = self.livemode

        cost = self.cost

        created_at = self.created_at

        input_: dict[str, Any] | Unset | None
        if isinstance(self.input_, Unset):
            input_ = UNSET
        elif isinstance(self.input_, JobListItemInput):
            input_ = self.input_.to_dict()
        else:
            input_ = self.input_

        result: dict[str, Any] | Unset | None
        if isinstance(self.result, Unset):
            result = UNSET
        elif isinstance(self.result, JobListItemResult):
            result = self.result.to_dict()
        else:
            result = self.result

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "job_id": job_id,
                "type": type_,
                "status": status,
                "error": error,
                "livemode": livemode,
                "cost": cost,
                "created_at": created_at,
            }
        )
        if input_ is not UNSET:
            field_dict["input"] = input_
        if result is not UNSET:
            field_dict["result"] = result

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_list_item_input import JobListItemInput
        from ..models.job_list_item_result import JobListItemResult

        d = dict(src_dict)
        job_id = d.pop("job_id")

        type_ = d.pop("type")

        status = JobStatus(d.pop("status"))

        def _parse_error(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        livemode = d.pop("livemode")

        cost = d.pop("cost")

        created_at = d.pop("created_at")

        def _parse_input_(data: object) -> JobListItemInput | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                input_type_0 = JobListItemInput.from_dict(data)

                return input_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobListItemInput | None | Unset, data)

        input_ = _parse_input_(d.pop("input", UNSET))

        def _parse_result(data: object) -> JobListItemResult | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = JobListItemResult.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobListItemResult | None | Unset, data)

        result = _parse_result(d.pop("result", UNSET))

        job_list_item = cls(
            job_id=job_id,
            type_=type_,
            status=status,
            error=error,
            livemode=livemode,
            cost=cost,
            created_at=created_at,
            input_=input_,
            result=result,
        )

        return job_list_item
