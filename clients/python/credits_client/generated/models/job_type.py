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
    from ..models.job_type_sample_result import JobTypeSampleResult
    from ..models.metered_pricing import MeteredPricing


T = TypeVar("T", bound="JobType")


@_attrs_define
class JobType:
    """
    Attributes:
        type_ (str):
        description (str):
        pricing (FixedPricing | MeteredPricing): `{"credits"}` per job, or metered: `{"credits_per_unit", "max_credits",
            "unit"}`.
        worker_url (None | str): null for a type migrated from system/config.job_costs without a worker: its jobs are
            refused until a PUT gives it one (docs/jobs.md).
        timeout_s (int):
        max_attempts (int):
        queue_timeout_s (int):
        max_concurrency (int): Attempts in flight at the worker at once, at most.
        max_rate_per_s (float | None): Dispatches per second at most; null: no rate limit.
        created_at (int):
        updated_at (int | None):
        completion (JobCompletion | Unset): How a type's worker ends an attempt (docs/workers.md): in its answer, or
            later by a callback.
        test_jobs (JobTestMode | Unset): What test-mode jobs of a type do: answered with the type's sample_result, or
            sent to the worker.
        sample_result (JobTypeSampleResult | Unset):
        cancel_policy (CancelPolicy | Unset): What canceling a running job costs: nothing (refund), or what it started
            (charge_started).
        worker_secret (None | str | Unset): Signs every dispatch (Standard Webhooks); present on creation and rotation
            only.
    """

    type_: str
    description: str
    pricing: FixedPricing | MeteredPricing
    worker_url: str | None
    timeout_s: int
    max_attempts: int
    queue_timeout_s: int
    max_concurrency: int
    max_rate_per_s: float | None
    created_at: int
    updated_at: int | None
    completion: JobCompletion | Unset = UNSET
    test_jobs: JobTestMode | Unset = UNSET
    sample_result: JobTypeSampleResult | Unset = UNSET
    cancel_policy: CancelPolicy | Unset = UNSET
    worker_secret: str | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fixed_pricing import FixedPricing

        type_ = self.type_

        description = self.description

        pricing: dict[str, Any]
        if isinstance(self.pricing, FixedPricing):
            pricing = self.pricing.to_dict()
        else:
            pricing = self.pricing.to_dict()

        worker_url: str | None
        worker_url = self.worker_url

        timeout_s = self.timeout_s

        max_attempts = self.max_attempts

        queue_timeout_s = self.queue_timeout_s

        max_concurrency = self.max_concurrency

        max_rate_per_s: float | None
        max_rate_per_s = self.max_rate_per_s

        created_at = self.created_at

        updated_at: int | None
        updated_at = self.updated_at

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

        worker_secret: str | Unset | None
        if isinstance(self.worker_secret, Unset):
            worker_secret = UNSET
        else:
            worker_secret = self.worker_secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "description": description,
                "pricing": pricing,
                "worker_url": worker_url,
                "timeout_s": timeout_s,
                "max_attempts": max_attempts,
                "queue_timeout_s": queue_timeout_s,
                "max_concurrency": max_concurrency,
                "max_rate_per_s": max_rate_per_s,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if completion is not UNSET:
            field_dict["completion"] = completion
        if test_jobs is not UNSET:
            field_dict["test_jobs"] = test_jobs
        if sample_result is not UNSET:
            field_dict["sample_result"] = sample_result
        if cancel_policy is not UNSET:
            field_dict["cancel_policy"] = cancel_policy
        if worker_secret is not UNSET:
            field_dict["worker_secret"] = worker_secret

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.fixed_pricing import FixedPricing
        from ..models.job_type_sample_result import JobTypeSampleResult
        from ..models.metered_pricing import MeteredPricing

        d = dict(src_dict)
        type_ = d.pop("type")

        description = d.pop("description")

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

        def _parse_worker_url(data: object) -> str | None:
            if data is None:
                return data
            return cast(None | str, data)

        worker_url = _parse_worker_url(d.pop("worker_url"))

        timeout_s = d.pop("timeout_s")

        max_attempts = d.pop("max_attempts")

        queue_timeout_s = d.pop("queue_timeout_s")

        max_concurrency = d.pop("max_concurrency")

        def _parse_max_rate_per_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        max_rate_per_s = _parse_max_rate_per_s(d.pop("max_rate_per_s"))

        created_at = d.pop("created_at")

        def _parse_updated_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        updated_at = _parse_updated_at(d.pop("updated_at"))

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
        sample_result: JobTypeSampleResult | Unset
        if isinstance(_sample_result, Unset):
            sample_result = UNSET
        else:
            sample_result = JobTypeSampleResult.from_dict(_sample_result)

        _cancel_policy = d.pop("cancel_policy", UNSET)
        cancel_policy: CancelPolicy | Unset
        if isinstance(_cancel_policy, Unset):
            cancel_policy = UNSET
        else:
            cancel_policy = CancelPolicy(_cancel_policy)

        def _parse_worker_secret(data: object) -> str | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        worker_secret = _parse_worker_secret(d.pop("worker_secret", UNSET))

        job_type = cls(
            type_=type_,
            description=description,
            pricing=pricing,
            worker_url=worker_url,
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            queue_timeout_s=queue_timeout_s,
            max_concurrency=max_concurrency,
            max_rate_per_s=max_rate_per_s,
            created_at=created_at,
            updated_at=updated_at,
            completion=completion,
            test_jobs=test_jobs,
            sample_result=sample_result,
            cancel_policy=cancel_policy,
            worker_secret=worker_secret,
        )

        job_type.additional_properties = d
        return job_type

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
