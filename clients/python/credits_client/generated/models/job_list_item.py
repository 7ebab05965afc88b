from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_failure import JobFailure
from ..models.job_status import JobStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_list_item_input import JobListItemInput
    from ..models.job_list_item_result import JobListItemResult
    from ..models.job_progress import JobProgress
    from ..models.job_usage import JobUsage


T = TypeVar("T", bound="JobListItem")


@_attrs_define
class JobListItem:
    """A job in GET /v1/jobs: `input` and `result` only when expanded (expand[]=data.input, data.result).

    Attributes:
        job_id (str):
        type_ (str):
        status (JobStatus): A job's state: queued and running move on; completed, failed and canceled are terminal
            (listed
            under `x-terminal`, where the clients' `wait` learns when to stop polling).
        error (None | str):
        failure_reason (JobFailure | None): Why a failed job failed: worker_error (4xx), attempts_exhausted, expired (no
            first attempt within queue_timeout_s), deadline_exceeded (not ended by its absolute deadline).
        livemode (bool):
        cost (int | None): Credits the job costs in the end: the fixed price, a metered job's settled cost once
            completed (null before), 0 once failed or canceled (refunded).
        reserved_credits (int): Credits held at creation (a metered type's max).
        usage (JobUsage | None): A metered job's reported usage, once completed.
        attempts (int):
        max_attempts (int):
        created_at (int):
        finished_at (int | None):
        progress (JobProgress | None | Unset): A callback worker's latest progress report, while the job runs
            (docs/workers.md).
        run_at (int | None | Unset): A delayed job: not dispatched before this.
        input_ (JobListItemInput | None | Unset): Present with expand[]=data.input.
        result (JobListItemResult | None | Unset): Present with expand[]=data.result.
    """

    job_id: str
    type_: str
    status: JobStatus
    error: str | None
    failure_reason: JobFailure | None
    livemode: bool
    cost: int | None
    reserved_credits: int
    usage: JobUsage | None
    attempts: int
    max_attempts: int
    created_at: int
    finished_at: int | None
    progress: JobProgress | Unset | None = UNSET
    run_at: int | Unset | None = UNSET
    input_: JobListItemInput | Unset | None = UNSET
    result: JobListItemResult | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.job_list_item_input import JobListItemInput
        from ..models.job_list_item_result import JobListItemResult
        from ..models.job_progress import JobProgress
        from ..models.job_usage import JobUsage

        job_id = self.job_id

        type_ = self.type_

        status = self.status.value

        error: str | None
        error = self.error

        failure_reason: str | None
        if isinstance(self.failure_reason, JobFailure):
            failure_reason = self.failure_reason.value
        else:
            failure_reason = self.failure_reason

        livemode = self.livemode

        cost: int | None
        cost = self.cost

        reserved_credits = self.reserved_credits

        usage: dict[str, Any] | None
        if isinstance(self.usage, JobUsage):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

        attempts = self.attempts

        max_attempts = self.max_attempts

        created_at = self.created_at

        finished_at: int | None
        finished_at = self.finished_at

        progress: dict[str, Any] | Unset | None
        if isinstance(self.progress, Unset):
            progress = UNSET
        elif isinstance(self.progress, JobProgress):
            progress = self.progress.to_dict()
        else:
            progress = self.progress

        run_at: int | Unset | None
        if isinstance(self.run_at, Unset):
            run_at = UNSET
        else:
            run_at = self.run_at

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
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "type": type_,
                "status": status,
                "error": error,
                "failure_reason": failure_reason,
                "livemode": livemode,
                "cost": cost,
                "reserved_credits": reserved_credits,
                "usage": usage,
                "attempts": attempts,
                "max_attempts": max_attempts,
                "created_at": created_at,
                "finished_at": finished_at,
            }
        )
        if progress is not UNSET:
            field_dict["progress"] = progress
        if run_at is not UNSET:
            field_dict["run_at"] = run_at
        if input_ is not UNSET:
            field_dict["input"] = input_
        if result is not UNSET:
            field_dict["result"] = result

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_list_item_input import JobListItemInput
        from ..models.job_list_item_result import JobListItemResult
        from ..models.job_progress import JobProgress
        from ..models.job_usage import JobUsage

        d = dict(src_dict)
        job_id = d.pop("job_id")

        type_ = d.pop("type")

        status = JobStatus(d.pop("status"))

        def _parse_error(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        def _parse_failure_reason(data: object) -> JobFailure | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                failure_reason_type_0 = JobFailure(data)

                return failure_reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobFailure | None, data)

        failure_reason = _parse_failure_reason(d.pop("failure_reason"))

        livemode = d.pop("livemode")

        def _parse_cost(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        cost = _parse_cost(d.pop("cost"))

        reserved_credits = d.pop("reserved_credits")

        def _parse_usage(data: object) -> JobUsage | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = JobUsage.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobUsage | None, data)

        usage = _parse_usage(d.pop("usage"))

        attempts = d.pop("attempts")

        max_attempts = d.pop("max_attempts")

        created_at = d.pop("created_at")

        def _parse_finished_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        def _parse_progress(data: object) -> JobProgress | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                progress_type_0 = JobProgress.from_dict(data)

                return progress_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobProgress | None | Unset, data)

        progress = _parse_progress(d.pop("progress", UNSET))

        def _parse_run_at(data: object) -> int | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        run_at = _parse_run_at(d.pop("run_at", UNSET))

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
            failure_reason=failure_reason,
            livemode=livemode,
            cost=cost,
            reserved_credits=reserved_credits,
            usage=usage,
            attempts=attempts,
            max_attempts=max_attempts,
            created_at=created_at,
            finished_at=finished_at,
            progress=progress,
            run_at=run_at,
            input_=input_,
            result=result,
        )

        job_list_item.additional_properties = d
        return job_list_item

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
