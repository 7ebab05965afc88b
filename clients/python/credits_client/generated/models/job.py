from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.job_status import JobStatus

if TYPE_CHECKING:
    from ..models.job_input import JobInput
    from ..models.job_result import JobResult


T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """
    Attributes:
        job_id (str):
        type_ (str):
        status (JobStatus):
        input_ (JobInput):
        result (JobResult | None):
        error (None | str):
        livemode (bool):
        cost (int):
        created_at (int):
    """

    job_id: str
    type_: str
    status: JobStatus
    input_: JobInput
    result: JobResult | None
    error: str | None
    livemode: bool
    cost: int
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        from ..models.job_result import JobResult

        job_id = self.job_id

        type_ = self.type_

        status = self.status.value

        input_ = self.input_.to_dict()

        result: dict[str, Any] | None
        if isinstance(self.result, JobResult):
            result = self.result.to_dict()
        else:
            result = self.result

        error: str | None
        error = self.error

        livemode = self.livemode

        cost = self.cost

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "job_id": job_id,
                "type": type_,
                "status": status,
                "input": input_,
                "result": result,
                "error": error,
                "livemode": livemode,
                "cost": cost,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_input import JobInput
        from ..models.job_result import JobResult

        d = dict(src_dict)
        job_id = d.pop("job_id")

        type_ = d.pop("type")

        status = JobStatus(d.pop("status"))

        input_ = JobInput.from_dict(d.pop("input"))

        def _parse_result(data: object) -> JobResult | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = JobResult.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobResult | None, data)

        result = _parse_result(d.pop("result"))

        def _parse_error(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        livemode = d.pop("livemode")

        cost = d.pop("cost")

        created_at = d.pop("created_at")

        job = cls(
            job_id=job_id,
            type_=type_,
            status=status,
            input_=input_,
            result=result,
            error=error,
            livemode=livemode,
            cost=cost,
            created_at=created_at,
        )

        return job
