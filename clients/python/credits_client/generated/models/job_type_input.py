from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.cancel_policy import CancelPolicy
from ..models.job_completion import JobCompletion
from ..models.job_test_mode import JobTestMode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.fixed_pricing import FixedPricing
    from ..models.job_type_input_sample_result import JobTypeInputSampleResult
    from ..models.metered_pricing import MeteredPricing


T = TypeVar("T", bound="JobTypeInput")


@_attrs_define
class JobTypeInput:
    """
    Attributes:
        worker_url (str):
        pricing (FixedPricing | MeteredPricing): `{"credits": n}` (fixed) or `{"credits_per_unit", "max_credits",
            "unit"}` (metered).
        description (str | Unset):  Default: ''.
        timeout_s (int | Unset):  Default: 300.
        max_attempts (int | Unset):  Default: 3.
        queue_timeout_s (int | Unset):  Default: 3600.
        completion (JobCompletion | Unset): How a type's worker ends an attempt (docs/workers.md): in its answer, or
            later by a callback.
        test_jobs (JobTestMode | Unset): What test-mode jobs of a type do: answered with the type's sample_result, or
            sent to the worker.
        sample_result (JobTypeInputSampleResult | Unset): The result of test-mode jobs when test_jobs is sample.
        cancel_policy (CancelPolicy | Unset): What canceling a running job costs: nothing (refund), or what it started
            (charge_started).
        max_concurrency (int | Unset): The most attempts in flight at the worker at once, over every instance; jobs
            beyond it wait queued. Default: 10.
        max_rate_per_s (float | None | Unset):
    """

    worker_url: str
    pricing: FixedPricing | MeteredPricing
    description: str | Unset = ""
    timeout_s: int | Unset = 300
    max_attempts: int | Unset = 3
    queue_timeout_s: int | Unset = 3600
    completion: JobCompletion | Unset = UNSET
    test_jobs: JobTestMode | Unset = UNSET
    sample_result: JobTypeInputSampleResult | Unset = UNSET
    cancel_policy: CancelPolicy | Unset = UNSET
    max_concurrency: int | Unset = 10
    max_rate_per_s: float | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fixed_pricing import FixedPricing

        worker_url = self.worker_url

        pricing: dict[str, Any]
        if isinstance(self.pricing, FixedPricing):
            pricing = self.pricing.to_dict()
        else:
            pricing = self.pricing.to_dict()

        description = self.description

        timeout_s = self.timeout_s

        max_attempts = self.max_attempts

        queue_timeout_s = self.queue_timeout_s

        completion: str | Unset = UNSET
        if not isinstance(self.completion, Unset):
            completion = self.completion.value

        test_jobs: str | Unset = UNSET
        if not isinstance(self.test_jobs, Unset):
            test_jobs = self.test_jobs.value

        sample_result: dict[str, Any] | Unset = UNSET
        if not isinstance(self.sample_result, Unset):
            sample_result = self.sample_result.to_dict()

        cancel_policy: str | Unset = UNSET
        if not isinstance(self.cancel_policy, Unset):
            cancel_policy = self.cancel_policy.value

        max_concurrency = self.max_concurrency

        max_rate_per_s: float | Unset | None
        if isinstance(self.max_rate_per_s, Unset):
            max_rate_per_s = UNSET
        else:
            max_rate_per_s = self.max_rate_per_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "worker_url": worker_url,
                "pricing": pricing,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if timeout_s is not UNSET:
            field_dict["timeout_s"] = timeout_s
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if queue_timeout_s is not UNSET:
            field_dict["queue_timeout_s"] = queue_timeout_s
        if completion is not UNSET:
            field_dict["completion"] = completion
        if test_jobs is not UNSET:
            field_dict["test_jobs"] = test_jobs
        if sample_result is not UNSET:
            field_dict["sample_result"] = sample_result
        if cancel_policy is not UNSET:
            field_dict["cancel_policy"] = cancel_policy
        if max_concurrency is not UNSET:
            field_dict["max_concurrency"] = max_concurrency
        if max_rate_per_s is not UNSET:
            field_dict["max_rate_per_s"] = max_rate_per_s

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.fixed_pricing import FixedPricing
        from ..models.job_type_input_sample_result import JobTypeInputSampleResult
        from ..models.metered_pricing import MeteredPricing

        d = dict(src_dict)
        worker_url = d.pop("worker_url")

        def _parse_pricing(data: object) -> FixedPricing | MeteredPricing:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pricing_type_0 = FixedPricing.from_dict(data)

                return pricing_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            pricing_type_1 = MeteredPricing.from_dict(data)

            return pricing_type_1

        pricing = _parse_pricing(d.pop("pricing"))

        description = d.pop("description", UNSET)

        timeout_s = d.pop("timeout_s", UNSET)

        max_attempts = d.pop("max_attempts", UNSET)

        queue_timeout_s = d.pop("queue_timeout_s", UNSET)

        _completion = d.pop("completion", UNSET)
        completion: JobCompletion | Unset
        if isinstance(_completion, Unset):
            completion = UNSET
        else:
            completion = JobCompletion(_completion)

        _test_jobs = d.pop("test_jobs", UNSET)
        test_jobs: JobTestMode | Unset
        if isinstance(_test_jobs, Unset):
            test_jobs = UNSET
        else:
            test_jobs = JobTestMode(_test_jobs)

        _sample_result = d.pop("sample_result", UNSET)
        sample_result: JobTypeInputSampleResult | Unset
        if isinstance(_sample_result, Unset):
            sample_result = UNSET
        else:
            sample_result = JobTypeInputSampleResult.from_dict(_sample_result)

        _cancel_policy = d.pop("cancel_policy", UNSET)
        cancel_policy: CancelPolicy | Unset
        if isinstance(_cancel_policy, Unset):
            cancel_policy = UNSET
        else:
            cancel_policy = CancelPolicy(_cancel_policy)

        max_concurrency = d.pop("max_concurrency", UNSET)

        def _parse_max_rate_per_s(data: object) -> float | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        max_rate_per_s = _parse_max_rate_per_s(d.pop("max_rate_per_s", UNSET))

        job_type_input = cls(
            worker_url=worker_url,
            pricing=pricing,
            description=description,
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            queue_timeout_s=queue_timeout_s,
            completion=completion,
            test_jobs=test_jobs,
            sample_result=sample_result,
            cancel_policy=cancel_policy,
            max_concurrency=max_concurrency,
            max_rate_per_s=max_rate_per_s,
        )

        job_type_input.additional_properties = d
        return job_type_input

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
